"""Gap exports: rows for `io/gaps_csv.py`, streamed so that a national export fits in memory.

Person level reads people in key order, a chunk at a time, with the chunk's current levels
(two queries per chunk); unit level reads units in tree order, a chunk at a time, with
their subtree rows as the dashboards read them (`selectors.subtree_rows`: stored for units
with child units, from their people's current levels for schools; three queries per chunk).
Both say the same as the engine: a unit row is the sum of the person rows below it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet

from educap.assessments.models import CurrentLevel
from educap.gaps.io.gaps_csv import PersonGapRow, UnitGapRow, round_ratio
from educap.gaps.models import RoleRequirement
from educap.gaps.selectors import (
    GapErrorCode,
    GapFilters,
    GapStats,
    framework_competencies,
    gaps_visible,
    small_cells_hidden,
    subtree_rows,
)
from educap.org.models import OrgUnit
from educap.people.models import Person
from educap.people.selectors import filter_people, person_list

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User
    from educap.frameworks.models import Framework

CHUNK = 2000
# Units per page of the unit export: at national scale 500 schools are about 4,000 people.
UNIT_CHUNK = 500
Progress = Callable[[int], None]


def person_export_queryset(
    *, user: User | AnonymousUser | None, unit: OrgUnit | None = None
) -> QuerySet[Person]:
    """Active people in `unit`'s subtree with a post. `user=None` is the system: everyone."""
    if user is None:
        people = filter_people(Person.objects.all(), unit=unit, active=True)
    else:
        people = person_list(user=user, unit=unit, active=True)
    return people.filter(unit__isnull=False, role__isnull=False)


def person_export_rows(
    *,
    people: QuerySet[Person],
    framework: Framework,
    chunk: int = CHUNK,
    progress: Progress | None = None,
) -> Iterator[PersonGapRow]:
    """One row per person x competency their role requires, people in key order."""
    order = {item.pk: n for n, item in enumerate(framework_competencies(framework=framework))}
    by_role: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    for role_id, item_id, code, required in RoleRequirement.objects.filter(
        framework=framework
    ).values_list("role_id", "item_id", "item__code", "required"):
        by_role[role_id].append((item_id, code, required))
    for needs in by_role.values():
        needs.sort(key=lambda need: order.get(need[0], len(order)))
    item_ids = sorted({need[0] for needs in by_role.values() for need in needs})
    people = people.filter(role_id__in=list(by_role)).order_by("pk")
    fields = ("pk", "staff_number", "unit__code", "role_id", "role__code", "sex")
    last = 0
    while True:
        # Keyset pages: each page costs the same however deep into the export it is.
        page = list(people.filter(pk__gt=last).values_list(*fields)[:chunk])
        if not page:
            return
        last = page[-1][0]
        current: dict[tuple[int, int], int] = {
            (p, i): v
            for p, i, v in CurrentLevel.objects.filter(
                person_id__in=[row[0] for row in page], item_id__in=item_ids
            ).values_list("person_id", "item_id", "value")
        }
        for pk, staff_number, unit_code, role_id, role_code, sex in page:
            for item_id, code, required in by_role[role_id]:
                yield PersonGapRow(
                    person_id=pk,
                    staff_number=staff_number,
                    unit_code=unit_code,
                    role_code=role_code,
                    sex=sex,
                    competency_code=code,
                    required=required,
                    current=current.get((pk, item_id)),
                )
        if progress is not None:
            progress(len(page))


def unit_export_rows(
    *,
    framework: Framework,
    unit: OrgUnit | None = None,
    user: User | AnonymousUser | None = None,
    progress: Progress | None = None,
    chunk: int = UNIT_CHUNK,
) -> Iterator[UnitGapRow]:
    """One row per unit of the subtree (the unit included) with staff in scope x
    competency, summed over role and sex; units in tree order. With a `user`, only what
    they may see, small cells suppressed for partner viewers."""
    hide = False
    if user is not None:
        if unit is None or not gaps_visible(user=user, unit=unit):
            raise PermissionDenied(GapErrorCode.NOT_ALLOWED)
        hide = small_cells_hidden(user=user, unit=unit)
    threshold = settings.EDUCAP_SMALL_CELL_THRESHOLD
    competencies = framework_competencies(framework=framework)
    order = {item.pk: n for n, item in enumerate(competencies)}
    codes = {item.pk: item.code for item in competencies}
    units = (
        OrgUnit.objects.select_related("level")
        .annotate(has_children=Exists(OrgUnit.objects.filter(parent=OuterRef("pk"))))
        .order_by("path")
    )
    if unit is not None:
        units = units.filter(path__startswith=unit.path)
    filters = GapFilters(framework)
    last = ""
    while True:
        # Keyset pages in tree order: each costs the same however deep into the export.
        page = list(units.filter(path__gt=last)[:chunk])
        if not page:
            return
        last = page[-1].path
        rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in subtree_rows(page, filters):
            rows[row["unit_id"]].append(row)
        for found in page:
            for row in sorted(rows[found.pk], key=lambda r: order.get(r["item_id"], len(order))):
                stats = GapStats()
                stats.add(row)
                if hide:
                    stats.suppress_if_small(threshold)
                yield _unit_row(found.code, found.level.code, codes[row["item_id"]], stats)
        if progress is not None:
            progress(len(page))


def _unit_row(unit_code: str, level_code: str, code: str, s: GapStats) -> UnitGapRow:
    if s.suppressed:
        return UnitGapRow(
            unit_code, level_code, code, None, None, None, None, None, None, None, suppressed=True
        )
    return UnitGapRow(
        unit_code=unit_code,
        level_code=level_code,
        competency_code=code,
        in_scope=s.in_scope,
        assessed=s.assessed,
        meeting=s.meeting,
        below=s.below,
        unknown=s.unknown,
        mean_gap=round_ratio(s.mean_gap),
        weighted_gap_index=round_ratio(s.weighted_gap_index),
    )


def unit_export_count(*, unit: OrgUnit | None = None) -> int:
    """Units the unit export covers (for a progress bar)."""
    units = OrgUnit.objects.all()
    if unit is not None:
        units = units.filter(path__startswith=unit.path)
    return units.count()

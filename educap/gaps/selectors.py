"""Reads of the gap analysis, all from stored rollups (see docs/gap-analysis.md).

Unit pages cost a fixed number of queries whatever the size of the subtree: the rollups
already hold every subtree's sums, so a page only adds up a few hundred rows per unit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum

from educap.accounts.scope import scope_for
from educap.assessments.models import CurrentLevel
from educap.frameworks.models import (
    Framework,
    FrameworkItem,
    FrameworkStatus,
    LevelIndicator,
    ScaleLevel,
)
from educap.gaps.engine import COUNTS, staff_meeting, unit_rows
from educap.gaps.models import (
    SUBTREE_SCOPES,
    GapSnapshot,
    RoleRequirement,
    SchoolHeadcountSnapshot,
    Scope,
    UnitGap,
    UnitGapSnapshot,
)
from educap.org.models import OrgUnit
from educap.people.models import Person, Role, Vacancy

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User

CRITICAL = 4
UNIT_TABLE = OrgUnit._meta.db_table
VACANCY_TABLE = Vacancy._meta.db_table


class GapErrorCode:
    NOT_ALLOWED = "gaps_not_allowed"
    NO_FRAMEWORK = "gaps_no_framework"


@dataclass
class GapStats:
    """Counts for one cell (unit x competency, or a total), with the derived measures."""

    in_scope: int = 0
    assessed: int = 0
    meeting: int = 0
    below: int = 0
    gap_sum: int = 0
    weighted_gap_sum: int = 0
    weighted_required_sum: int = 0
    calibration_pairs: int = 0
    calibration_sum: int = 0
    # True when a partner viewer looks at a cell of fewer than the threshold people.
    suppressed: bool = False

    def add(self, row: dict[str, Any]) -> None:
        """Add a row of counts (missing or NULL counts add nothing; `vars()` of another
        GapStats adds its counts, as `merge` does). Written out: a national page adds a
        few thousand rows, and a loop over setattr cost it 20 ms."""
        get = row.get
        self.in_scope += get("in_scope") or 0
        self.assessed += get("assessed") or 0
        self.meeting += get("meeting") or 0
        self.below += get("below") or 0
        self.gap_sum += get("gap_sum") or 0
        self.weighted_gap_sum += get("weighted_gap_sum") or 0
        self.weighted_required_sum += get("weighted_required_sum") or 0
        self.calibration_pairs += get("calibration_pairs") or 0
        self.calibration_sum += get("calibration_sum") or 0

    def merge(self, other: GapStats) -> None:
        """Add another cell's counts (what `add(vars(other))` does, without the dict)."""
        self.in_scope += other.in_scope
        self.assessed += other.assessed
        self.meeting += other.meeting
        self.below += other.below
        self.gap_sum += other.gap_sum
        self.weighted_gap_sum += other.weighted_gap_sum
        self.weighted_required_sum += other.weighted_required_sum
        self.calibration_pairs += other.calibration_pairs
        self.calibration_sum += other.calibration_sum

    @property
    def unknown(self) -> int:
        return self.in_scope - self.assessed

    @property
    def mean_gap(self) -> float | None:
        """Mean gap among the people assessed (people meeting count as 0)."""
        return self.gap_sum / self.assessed if self.assessed else None

    @property
    def share_meeting(self) -> float | None:
        """Share of the people assessed who meet the requirement."""
        return self.meeting / self.assessed if self.assessed else None

    @property
    def share_assessed(self) -> float | None:
        return self.assessed / self.in_scope if self.in_scope else None

    @property
    def weighted_gap_index(self) -> float | None:
        """Σ weight·gap / Σ weight·required over the people assessed (0 = all meet)."""
        if not self.weighted_required_sum:
            return None
        return self.weighted_gap_sum / self.weighted_required_sum

    @property
    def priority(self) -> int:
        """Training-need priority: people below x their mean gap x weight = Σ weight·gap."""
        return self.weighted_gap_sum

    @property
    def mean_self_minus_supervisor(self) -> float | None:
        if not self.calibration_pairs:
            return None
        return self.calibration_sum / self.calibration_pairs

    def suppress_if_small(self, threshold: int) -> GapStats:
        if 0 < self.in_scope < threshold:
            self.suppressed = True
        return self


@dataclass(frozen=True)
class GapFilters:
    framework: Framework
    role: Role | None = None
    sex: str = ""
    # The gaps as at the end of a campaign's period instead of now.
    snapshot: GapSnapshot | None = None

    @property
    def splits(self) -> bool:
        """Whether only one role or one sex is asked for."""
        return self.role is not None or bool(self.sex)

    def q(self) -> Q:
        query = Q(item__framework=self.framework)
        if self.role is not None:
            query &= Q(role=self.role)
        if self.sex:
            query &= Q(sex=self.sex)
        return query


# --- access ----------------------------------------------------------------------------


def gaps_visible(*, user: User | AnonymousUser, unit: OrgUnit) -> bool:
    return scope_for(user).can_see_aggregates_of(unit)


def small_cells_hidden(*, user: User | AnonymousUser, unit: OrgUnit) -> bool:
    """Partner viewers (aggregates only) never see cells of fewer than the threshold."""
    scope = scope_for(user)
    if scope.is_admin:
        return False
    return not any(unit.path.startswith(path) for path in scope.subtree_paths)


def _require_visible(user: User | AnonymousUser, unit: OrgUnit) -> None:
    if not gaps_visible(user=user, unit=unit):
        raise PermissionDenied(GapErrorCode.NOT_ALLOWED)


def gap_frameworks() -> QuerySet[Framework]:
    """Published framework versions that some role profile uses, newest first."""
    used = RoleRequirement.objects.values("framework_id")
    return Framework.objects.filter(pk__in=used, status=FrameworkStatus.PUBLISHED).order_by(
        "code", "-published_at", "-pk"
    )


def default_framework() -> Framework | None:
    return gap_frameworks().order_by("-published_at", "-pk").first()


def start_unit(*, user: User | AnonymousUser) -> OrgUnit | None:
    """Where a user's dashboard opens: the root for admins, else their highest unit."""
    scope = scope_for(user)
    paths = () if scope.is_admin else scope.subtree_paths + scope.aggregate_paths
    if scope.is_admin:
        return OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    if not paths:
        return None
    top = min(paths, key=len)
    return OrgUnit.objects.filter(path=top).first()


# --- unit dashboards -------------------------------------------------------------------


def framework_competencies(*, framework: Framework) -> list[FrameworkItem]:
    """Competencies some role requires, in framework order (domain, then item)."""
    required = RoleRequirement.objects.filter(framework=framework).values("item_id")
    items = FrameworkItem.objects.filter(pk__in=required).select_related("parent")
    return sorted(
        items,
        key=lambda i: (
            i.parent.sequence if i.parent else -1,
            i.parent_id or 0,
            i.sequence,
            i.pk,
        ),
    )


def _fetch(query: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """The rows of a values() query of plain numbers and strings, read through a plain
    cursor: a national page reads thousands of such rows, and Django's per-value
    converters (int() of an int) cost it 15 ms."""
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _sums(rows: QuerySet[Any], *group: str) -> list[dict[str, Any]]:
    """The counts of `rows` summed by `group` (read with `_fetch`)."""
    query = rows.values(*group).annotate(**{c: Sum(c) for c in COUNTS}).order_by()
    names = (*group, *COUNTS)
    return [dict(zip(names, row, strict=True)) for row in _fetch(query)]


def _is_leaf(unit: OrgUnit) -> bool:
    """Whether the unit has no child units (one query, remembered on the instance; none
    when it was read with the `has_children` annotation)."""
    known = getattr(unit, "has_children", None)
    if known is None:
        known = OrgUnit.objects.filter(parent=unit).exists()
        unit.has_children = known  # type: ignore[attr-defined]
    return not known


def _live_rows(
    unit_ids: list[int],
    filters: GapFilters,
    *,
    by_role_sex: bool = True,
) -> list[dict[str, Any]]:
    """Rows of units without child units (which store none), per competency, by role and
    sex or not, from their people's current levels (see engine.unit_rows)."""
    return unit_rows(
        unit_ids=unit_ids,
        framework_id=filters.framework.pk,
        role_id=filters.role.pk if filters.role is not None else None,
        sex=filters.sex,
        by_role_sex=by_role_sex,
    )


def subtree_rows(
    units: Sequence[OrgUnit], filters: GapFilters, *, by_role_sex: bool = False
) -> list[dict[str, Any]]:
    """Subtree counts of these units per unit x competency (x role x sex with
    `by_role_sex`): stored rows of units with child units (`TOTAL` rows when neither split
    nor filtered by role or sex), and for units without (schools, which store none) their
    people's current levels. One query, two with both kinds.

    From a snapshot (a past period) schools have no role or sex split: with a role or sex
    filter they have no rows, by role and sex one row per competency with role None and sex
    blank."""
    snapshot = filters.snapshot
    leaves = [u.pk for u in units if snapshot is None and _is_leaf(u)]
    stored = [u.pk for u in units if u.pk not in leaves]
    group = ("unit_id", "item_id", "role_id", "sex") if by_role_sex else ("unit_id", "item_id")
    rows: list[dict[str, Any]] = []
    if stored:
        source: QuerySet[Any]
        scopes: tuple[Scope, ...]
        if snapshot is not None:
            source, scopes = UnitGapSnapshot.objects.filter(snapshot=snapshot), SUBTREE_SCOPES
        else:
            # Neither split nor filtered by role or sex: the rows summed over roles and
            # sexes already, one per unit x competency.
            split = by_role_sex or filters.splits
            source, scopes = UnitGap.objects.all(), (Scope.SUBTREE if split else Scope.TOTAL,)
        query = source.filter(filters.q(), scope__in=scopes, unit_id__in=stored)
        rows += _sums(query, *group)
    if leaves:
        rows += _live_rows(leaves, filters, by_role_sex=by_role_sex)
    return rows


@dataclass
class UnitMatrix:
    unit: OrgUnit
    competencies: list[FrameworkItem]
    total: GapStats
    # The unit's own total per competency.
    columns: dict[int, GapStats]
    children: list[tuple[OrgUnit, GapStats, dict[int, GapStats]]]
    suppressed: bool
    # All child units, when `children` holds one page of them.
    children_total: int | None = None
    # The child units read (the page), with or without staff in scope.
    child_units: list[OrgUnit] = field(default_factory=list)


def unit_matrix(
    *,
    user: User | AnonymousUser,
    unit: OrgUnit,
    filters: GapFilters,
    children_page: tuple[int, int] | None = None,
) -> UnitMatrix:
    """The heat map: child units x competencies for one unit subtree (four queries; five
    with `children_page` = (offset, limit), which reads only that page of child units,
    by name; one more with a role or sex filter when some of them have no child units)."""
    _require_visible(user, unit)
    hide = small_cells_hidden(user=user, unit=unit)
    threshold = settings.EDUCAP_SMALL_CELL_THRESHOLD
    competencies = framework_competencies(framework=filters.framework)
    has_children = OrgUnit.objects.filter(parent=OuterRef("pk"))
    child_units = (
        OrgUnit.objects.filter(parent=unit)
        .select_related("level")
        .annotate(has_children=Exists(has_children))
        .order_by("name")
    )
    children_total = None
    if children_page is not None:
        # A page of child units by name; one without staff in scope is left out of its page.
        offset, limit = children_page
        children_total = child_units.count()
        child_units = child_units[offset : offset + limit]
    children: list[OrgUnit] = list(child_units)
    if getattr(unit, "has_children", None) is None and (children or children_total):
        unit.has_children = True  # type: ignore[attr-defined]
    elif not children and children_page is None:
        unit.has_children = False  # type: ignore[attr-defined]
    cells: dict[int, dict[int, GapStats]] = defaultdict(lambda: defaultdict(GapStats))
    for row in subtree_rows([unit, *children], filters):
        cells[row["unit_id"]][row["item_id"]].add(row)
    total = GapStats()
    for stats in cells[unit.pk].values():
        total.merge(stats)
    child_rows = []
    for child in children:
        child_cells = cells.get(child.pk, {})
        child_total = GapStats()
        for stats in child_cells.values():
            child_total.merge(stats)
        if child_total.in_scope == 0:
            continue
        if hide:
            for stats in child_cells.values():
                stats.suppress_if_small(threshold)
            # A total sums people x competencies: judge it by the people it can stand for.
            people = max(stats.in_scope for stats in child_cells.values())
            if people < threshold:
                child_total.suppressed = True
        child_rows.append((child, child_total, dict(child_cells)))
    columns = dict(cells.get(unit.pk, {}))
    if hide:
        for stats in columns.values():
            stats.suppress_if_small(threshold)
    return UnitMatrix(
        unit, competencies, total, columns, child_rows, hide, children_total, children
    )


@dataclass
class Need:
    item: FrameworkItem
    stats: GapStats
    # (role, sex) -> people below the requirement
    below_by_role_sex: dict[tuple[int, str], int] = field(default_factory=dict)


def subtree_by_role_sex(
    *, user: User | AnonymousUser, unit: OrgUnit, filters: GapFilters
) -> list[dict[str, Any]]:
    """A unit subtree's counts per competency x role x sex (one query; see
    `subtree_rows`): what `training_needs` and `unit_headcount` read, for a caller that
    wants both from one read."""
    _require_visible(user, unit)
    return subtree_rows([unit], filters, by_role_sex=True)


def training_needs(
    *,
    user: User | AnonymousUser,
    unit: OrgUnit,
    filters: GapFilters,
    limit: int = 10,
    rows: list[dict[str, Any]] | None = None,
    items: dict[int, FrameworkItem] | None = None,
) -> list[Need]:
    """The training-needs analysis of a unit subtree: competencies ranked by priority
    (from `rows` of `subtree_by_role_sex` when given; the competencies looked up in
    `items` when given, e.g. the heat map's)."""
    _require_visible(user, unit)
    by_item: dict[int, GapStats] = defaultdict(GapStats)
    split: dict[int, dict[tuple[int, str], int]] = defaultdict(dict)  # not for past schools
    if rows is None:
        rows = subtree_rows([unit], filters, by_role_sex=True)
    for row in rows:
        by_item[row["item_id"]].add(row)
        if row["below"] and row["role_id"] is not None:
            split[row["item_id"]][(row["role_id"], row["sex"])] = row["below"]
    ranked = sorted(
        (item_id for item_id, s in by_item.items() if s.priority > 0),
        key=lambda i: (-by_item[i].priority, -by_item[i].below, i),
    )[:limit]
    if items is None or not set(ranked) <= items.keys():
        items = FrameworkItem.objects.in_bulk(ranked)
    hide = small_cells_hidden(user=user, unit=unit)
    threshold = settings.EDUCAP_SMALL_CELL_THRESHOLD
    needs = []
    for item_id in ranked:
        stats = by_item[item_id]
        counts = split[item_id]
        if hide:
            stats.suppress_if_small(threshold)
            counts = {k: v for k, v in counts.items() if v >= threshold}
        needs.append(Need(items[item_id], stats, counts))
    return needs


@dataclass
class RecruitmentNeed:
    unit: OrgUnit
    role: Role
    item: FrameworkItem | None  # None: vacancies rather than a missing competency
    in_post: int = 0
    vacancies: int = 0
    # Vacancies counted over the unit and every unit below it (a listed child unit that
    # has units below it), not in the unit alone.
    below: bool = False


def recruitment_needs(
    *,
    user: User | AnonymousUser,
    unit: OrgUnit,
    filters: GapFilters,
    limit: int = 200,
    children: list[OrgUnit] | None = None,
    items: dict[int, FrameworkItem] | None = None,
    roles: dict[int, Role] | None = None,
) -> list[RecruitmentNeed]:
    """`unit` and its child units (or only `children`, e.g. the page of them a dashboard
    shows) where nobody in a role meets a critical competency, and the open posts of
    each of them (a child unit's with the units below it; see `_vacancies`).

    Looks at units' own staff (a school with no qualified statistician needs one even if
    its district has several). Schools are counted from their people's current levels, so
    a page of 25 reads a few thousand levels where all 200 of a district would read ten
    times as many.

    `items` and `roles` (competencies and roles by id, e.g. already read by the page)
    spare their queries."""
    _require_visible(user, unit)
    critical = RoleRequirement.objects.filter(framework=filters.framework, weight__gte=CRITICAL)
    if filters.role is not None:
        critical = critical.filter(role=filters.role)
    pairs = set(critical.values_list("role_id", "item_id"))
    if children is None:
        has_children = OrgUnit.objects.filter(parent=OuterRef("pk"))
        children = list(
            OrgUnit.objects.filter(parent=unit).annotate(has_children=Exists(has_children))
        )
    needs: list[RecruitmentNeed] = []
    if pairs:
        # The unit and its child units, the units its dashboard lists: a national list
        # of every school would help nobody; drill down instead. Units with child units
        # from their stored OWN rows; schools (which store nothing) from their people's
        # current levels of the critical competencies.
        listed = [unit, *children]
        leaves = [u.pk for u in listed if _is_leaf(u)]
        found: list[dict[str, Any]] = []
        stored = [u.pk for u in listed if u.pk not in leaves]
        if stored:
            rows = UnitGap.objects.filter(
                scope=Scope.OWN,
                unit_id__in=stored,
                item_id__in={i for _, i in pairs},
                role_id__in={r for r, _ in pairs},
            )
            if filters.sex:
                rows = rows.filter(sex=filters.sex)
            found += (
                rows.values("unit_id", "role_id", "item_id")
                .annotate(in_scope=Sum("in_scope"), meeting=Sum("meeting"))
                .filter(meeting=0)
                .order_by("unit_id", "role_id", "item_id")[:limit]
            )
        if leaves:
            live = staff_meeting(
                unit_ids=leaves,
                framework_id=filters.framework.pk,
                weight=CRITICAL,
                role_id=filters.role.pk if filters.role is not None else None,
                sex=filters.sex,
            )
            found += sorted(
                (row for row in live if not row["meeting"]),
                key=lambda row: (row["unit_id"], row["role_id"], row["item_id"]),
            )
        found = [g for g in found if (g["role_id"], g["item_id"]) in pairs][:limit]
        # The units are the ones listed (no query); the roles, for vacancies too, once.
        units = {u.pk: u for u in listed}
        if roles is None:
            roles = Role.objects.in_bulk({r for r, _ in pairs})
        if items is None or not {g["item_id"] for g in found} <= items.keys():
            items = FrameworkItem.objects.in_bulk({g["item_id"] for g in found})
        needs += [
            RecruitmentNeed(
                units[g["unit_id"]], roles[g["role_id"]], items[g["item_id"]], g["in_scope"]
            )
            for g in found
        ]
    needs += _vacancies(unit=unit, children=children, filters=filters, limit=limit, roles=roles)
    return needs


def _vacancies(
    *,
    unit: OrgUnit,
    children: list[OrgUnit],
    filters: GapFilters,
    limit: int,
    roles: dict[int, Role] | None = None,
) -> list[RecruitmentNeed]:
    """Open posts by role of the units a dashboard lists: the unit's own, and each listed
    child unit's with every unit below it (so a governorate's row counts its schools').
    One query (posts by listed unit and role, see `_open_posts`) whatever the number of
    posts, and the roles not in `roles`; the unit first, then by unit name and role."""
    roles = roles or {}
    listed = {unit.pk: unit} | {c.pk: c for c in children}
    by_path = {u.path: u.pk for u in listed.values()}
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for path, role_id, posts_open in _open_posts(unit, filters.role):
        owner = by_path.get(path)
        if owner is not None:
            counts[(owner, role_id)] += posts_open
    missing = {role for _owner, role in counts} - set(roles)
    if missing:
        roles = {**roles, **Role.objects.in_bulk(missing)}
    found = [
        RecruitmentNeed(
            listed[owner],
            roles[role],
            None,
            vacancies=n,
            below=owner != unit.pk and not _is_leaf(listed[owner]),
        )
        for (owner, role), n in counts.items()
    ]
    found.sort(key=lambda n: (n.unit.pk != unit.pk, str(n.unit.name), str(n.role.name)))
    return found[:limit]


def _open_posts(unit: OrgUnit, role: Role | None) -> list[tuple[str, int, int]]:
    """Open posts in `unit`'s subtree by role and by the unit of the dashboard's list that
    holds them, named by its path: `unit`'s own (its path), or the child unit whose path
    the post's unit's path begins with. One query; a few dozen rows whatever the number of
    posts.

    Each post's unit path is looked up through the primary key (a few thousand probes at
    national scale): joined, the planner would hash the whole unit table. Below the top
    unit the posts are first narrowed to the subtree through the path index."""
    start = len(unit.path)
    postgresql = connection.vendor == "postgresql"
    position = "strpos" if postgresql else "instr"
    # Keeps the subquery apart: merged into the outer one, PostgreSQL would look each
    # path up once per mention of it.
    fence = "OFFSET 0" if postgresql else ""
    where = ["v.filled_on IS NULL"]
    params: list[Any] = []
    if unit.parent_id is not None:
        subtree = f"SELECT u.id FROM {UNIT_TABLE} u WHERE u.path LIKE %s"  # noqa: S608
        where.append(f"v.unit_id IN ({subtree})")
        params.append(f"{unit.path}%")
    if role is not None:
        where.append("v.role_id = %s")
        params.append(role.pk)
    # The owner's path: the post's unit's path up to the slash after the next id.
    sql = f"""
        SELECT substr(path, 1, {start} + {position}(substr(path, {start + 1}), '/')) AS owner,
               role_id, SUM(posts)
        FROM (
            SELECT (SELECT u.path FROM {UNIT_TABLE} u WHERE u.id = v.unit_id) AS path,
                   v.role_id, v.count AS posts
            FROM {VACANCY_TABLE} v WHERE {" AND ".join(where)}
            {fence}
        ) posts
        WHERE path LIKE %s
        GROUP BY 1, 2
    """  # noqa: S608 - identifiers from model metadata, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, f"{unit.path}%"])
        return cursor.fetchall()


def calibration(
    *, user: User | AnonymousUser, unit: OrgUnit, filters: GapFilters
) -> dict[int, dict[int, GapStats]]:
    """child unit id -> competency id -> stats (read `mean_self_minus_supervisor`)."""
    matrix = unit_matrix(user=user, unit=unit, filters=filters)
    return {child.pk: cells for child, _, cells in matrix.children}


# --- people ----------------------------------------------------------------------------


@dataclass
class PersonGap:
    item: FrameworkItem
    required: int
    weight: int
    current: int | None

    @property
    def gap(self) -> int | None:
        return None if self.current is None else max(0, self.required - self.current)

    @property
    def status(self) -> str:
        if self.current is None:
            return "unknown"
        return "met" if self.current >= self.required else "below"


@dataclass
class PersonSummary:
    person: Person
    framework: Framework | None
    gaps: list[PersonGap]
    levels: dict[int, ScaleLevel]

    @property
    def met(self) -> int:
        return sum(1 for g in self.gaps if g.status == "met")

    @property
    def below(self) -> int:
        return sum(1 for g in self.gaps if g.status == "below")

    @property
    def unknown(self) -> int:
        return sum(1 for g in self.gaps if g.status == "unknown")

    @property
    def weighted_gap_index(self) -> float | None:
        """Σ weight·gap / Σ weight·required over the competencies with a current level."""
        known = [g for g in self.gaps if g.current is not None]
        denominator = sum(g.weight * g.required for g in known)
        if not denominator:
            return None
        return sum(g.weight * (g.gap or 0) for g in known) / denominator


def person_gaps(
    *, user: User | AnonymousUser, person: Person, framework: Framework | None = None
) -> PersonSummary:
    """Gaps of one person against their role's profile (three queries)."""
    if not scope_for(user).can_read_person(person):
        raise PermissionDenied(GapErrorCode.NOT_ALLOWED)
    framework = framework or default_framework()
    if framework is None or person.role_id is None:
        return PersonSummary(person, framework, [], {})
    requirements = list(
        RoleRequirement.objects.filter(framework=framework, role_id=person.role_id).select_related(
            "item", "item__parent"
        )
    )
    current = dict(
        CurrentLevel.objects.filter(
            person=person, item_id__in=[r.item_id for r in requirements]
        ).values_list("item_id", "value")
    )
    gaps = [PersonGap(r.item, r.required, r.weight, current.get(r.item_id)) for r in requirements]
    gaps.sort(
        key=lambda g: (
            g.item.parent.sequence if g.item.parent else -1,
            g.item.parent_id or 0,
            g.item.sequence,
            g.item.pk,
        )
    )
    levels = {level.value: level for level in framework.scale.levels.all()}
    return PersonSummary(person, framework, gaps, levels)


@dataclass
class TeamRow:
    person: Person
    cells: dict[int, PersonGap]


def team_gaps(
    *, user: User | AnonymousUser, framework: Framework | None = None
) -> tuple[list[FrameworkItem], list[TeamRow]]:
    """A supervisor's direct reports x the competencies their roles require (four queries)."""
    scope = scope_for(user)
    framework = framework or default_framework()
    if scope.person_id is None or framework is None:
        return [], []
    team = list(
        Person.objects.filter(supervisor_id=scope.person_id, is_active=True)
        .select_related("role")
        .order_by("family_name", "given_name")
    )
    requirements = RoleRequirement.objects.filter(
        framework=framework, role_id__in={p.role_id for p in team}
    ).select_related("item")
    by_role: dict[int, dict[int, RoleRequirement]] = defaultdict(dict)
    for r in requirements:
        by_role[r.role_id][r.item_id] = r
    item_ids = {i for reqs in by_role.values() for i in reqs}
    current = {
        (c["person_id"], c["item_id"]): c["value"]
        for c in CurrentLevel.objects.filter(
            person_id__in=[p.pk for p in team], item_id__in=item_ids
        ).values("person_id", "item_id", "value")
    }
    items = [i for i in framework_competencies(framework=framework) if i.pk in item_ids]
    rows = []
    for person in team:
        reqs = by_role.get(person.role_id or 0, {})
        rows.append(
            TeamRow(
                person,
                {
                    item_id: PersonGap(
                        r.item, r.required, r.weight, current.get((person.pk, item_id))
                    )
                    for item_id, r in reqs.items()
                },
            )
        )
    return items, rows


# --- page helpers (web and exports) ----------------------------------------------------


def unit_headcount(
    *,
    user: User | AnonymousUser,
    unit: OrgUnit,
    filters: GapFilters,
    rows: list[dict[str, Any]] | None = None,
) -> int:
    """People in scope of a unit subtree (one query over the rollups; none with `rows` of
    `subtree_by_role_sex`).

    Everyone in a role is in scope for every competency the role requires, so within one
    role and sex `in_scope` is the same for each of its competencies: the sum over roles and
    sexes of that number counts each person once."""
    _require_visible(user, unit)
    if filters.snapshot is not None and _is_leaf(unit):
        if filters.splits:
            return 0  # a past period keeps no role or sex split of a school
        return (
            SchoolHeadcountSnapshot.objects.filter(snapshot=filters.snapshot, unit=unit)
            .values_list("people", flat=True)
            .first()
            or 0
        )
    people: dict[tuple[int | None, str], int] = defaultdict(int)
    if rows is None:
        rows = subtree_rows([unit], filters, by_role_sex=True)
    for row in rows:
        key = (row["role_id"], row["sex"])
        people[key] = max(people[key], row["in_scope"] or 0)
    return sum(people.values())


@dataclass
class CalibrationTable:
    competencies: list[FrameworkItem]
    # (child unit, competency id -> stats)
    rows: list[tuple[OrgUnit, dict[int, GapStats]]]


def calibration_table(*, matrix: UnitMatrix, limit: int = 6) -> CalibrationTable:
    """The competencies with the most self-and-supervisor pairs, by child unit (no query).

    Takes the heat map already read, so a page showing both reads the rollups once."""
    ranked = sorted(
        (item for item in matrix.competencies if item.pk in matrix.columns),
        key=lambda item: -matrix.columns[item.pk].calibration_pairs,
    )
    top = [i for i in ranked if matrix.columns[i.pk].calibration_pairs][:limit]
    order = {item.pk: n for n, item in enumerate(matrix.competencies)}
    top.sort(key=lambda item: order[item.pk])
    return CalibrationTable(top, [(child, cells) for child, _, cells in matrix.children])


@dataclass
class DomainProfile:
    """Required and current level of one domain, averaged over its required competencies."""

    domain: FrameworkItem | None
    required: float
    # Average over the competencies with a current level; None when none has one.
    current: float | None
    competencies: int
    known: int


def domain_profile(*, summary: PersonSummary) -> list[DomainProfile]:
    """Per-domain averages for the radar chart (no query: reads `person_gaps`' result)."""
    groups: dict[int | None, list[PersonGap]] = {}
    for gap in summary.gaps:
        groups.setdefault(gap.item.parent_id, []).append(gap)
    profile = []
    for gaps in groups.values():
        known = [g.current for g in gaps if g.current is not None]
        profile.append(
            DomainProfile(
                domain=gaps[0].item.parent,
                required=sum(g.required for g in gaps) / len(gaps),
                current=sum(known) / len(known) if known else None,
                competencies=len(gaps),
                known=len(known),
            )
        )
    return profile


@dataclass(frozen=True)
class NextStep:
    """What to work on for one competency: the level to reach next and its indicator."""

    level: ScaleLevel | None
    indicator: str


def next_steps(*, summary: PersonSummary) -> dict[int, NextStep]:
    """Competency id -> the behavioural indicator of the next level to reach (one query).

    Below: the level above the current one. Unknown: the required level. Met: the level
    above the current one, if the scale has one (room to grow)."""
    targets: dict[int, int] = {}
    for gap in summary.gaps:
        target = gap.required if gap.current is None else gap.current + 1
        if target in summary.levels:
            targets[gap.item.pk] = target
    if not targets:
        return {}
    texts = {
        (row["item_id"], row["level__value"]): row["text"]
        for row in LevelIndicator.objects.filter(
            item_id__in=targets, level__value__in=set(targets.values())
        ).values("item_id", "level__value", "text")
    }
    return {
        item_id: NextStep(summary.levels.get(value), texts.get((item_id, value), ""))
        for item_id, value in targets.items()
    }


def pending_self_assessment(*, user: User | AnonymousUser) -> bool:
    """Whether the user has an open campaign asking for their own self rating."""
    from educap.assessments.models import AssignmentKind, AssignmentStatus, CampaignStatus
    from educap.assessments.selectors import my_assignments

    return (
        my_assignments(user=user)
        .filter(kind=AssignmentKind.SELF, campaign__status=CampaignStatus.OPEN)
        .exclude(status=AssignmentStatus.SUBMITTED)
        .exists()
    )

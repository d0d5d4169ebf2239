"""export_gaps: the unit export equals a brute-force recomputation from the person export."""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from educap.assessments.consolidation import current_levels_rebuild
from educap.assessments.models import Rating
from educap.assessments.tests.factories import make_published_framework
from educap.core.testing import make_person
from educap.frameworks.models import FrameworkItem
from educap.gaps.engine import gaps_rebuild
from educap.gaps.exporting import person_export_queryset, person_export_rows, unit_export_rows
from educap.gaps.io.gaps_csv import UnitGapRow, parse_person_csv, parse_unit_csv, round_ratio
from educap.gaps.models import RoleRequirement
from educap.org.models import OrgUnit
from educap.people.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(ministry):
    """Mixed ratings (some people unrated in some competencies), a second teacher in G2D2S1
    and an inactive officer, who must not be counted."""
    framework = make_published_framework()
    items = {i.code: i for i in FrameworkItem.objects.filter(framework=framework)}
    p = ministry.people
    make_person(ministry.units["G2D2S1"], p["g1d2_teacher"].role, sex="M")
    gone = make_person(ministry.units["G2"], p["central"].role, is_active=False)
    now = timezone.now()
    codes = ("D1.1", "D1.2", "D2.1", "D2.2")
    for n, person in enumerate([*Person.objects.order_by("pk"), gone]):
        for k, code in enumerate(codes):
            if (n + k) % 3 == 0:
                continue  # unknown
            value = 1 + (n * 7 + k) % 5
            Rating.objects.create(
                person=person, item=items[code], source="supervisor", value=value, rated_at=now
            )
            Rating.objects.create(
                person=person, item=items[code], source="self", value=value, rated_at=now
            )
    current_levels_rebuild()
    gaps_rebuild()
    return framework


def _export(tmp_path: Path, *args: str) -> str:
    path = tmp_path / "out.csv"
    call_command("export_gaps", *args, "-o", str(path), stderr=io.StringIO())
    return path.read_text(encoding="utf-8")


def _brute_force(person_text: str, within: OrgUnit) -> dict[tuple[str, str], UnitGapRow]:
    units = {u.code: u for u in OrgUnit.objects.select_related("level")}
    weight = {
        (role, item): w
        for role, item, w in RoleRequirement.objects.values_list(
            "role__code", "item__code", "weight"
        )
    }
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 7)
    for row in parse_person_csv(person_text):
        path = units[row.unit_code].path
        for code, unit in units.items():
            if not path.startswith(unit.path) or not unit.path.startswith(within.path):
                continue
            c = cells[(code, row.competency_code)]
            w = weight[(row.role_code, row.competency_code)]
            c[0] += 1
            if row.current is not None:
                c[1] += 1
                c[2] += row.current >= row.required
                c[3] += row.current < row.required
                c[4] += row.gap or 0
                c[5] += w * (row.gap or 0)
                c[6] += w * row.required
    return {
        (code, item): UnitGapRow(
            unit_code=code,
            level_code=units[code].level.code,
            competency_code=item,
            in_scope=c[0],
            assessed=c[1],
            meeting=c[2],
            below=c[3],
            unknown=c[0] - c[1],
            mean_gap=round_ratio(c[4] / c[1]) if c[1] else None,
            weighted_gap_index=round_ratio(c[5] / c[6]) if c[6] else None,
        )
        for (code, item), c in cells.items()
    }


@pytest.mark.parametrize("unit", ["MOE", "G1", "G2D2"])
def test_unit_export_equals_brute_force_from_person_export(ministry, rated, tmp_path, unit):
    people = _export(tmp_path, "--level", "person", "--unit", unit)
    units = _export(tmp_path, "--level", "unit", "--unit", unit)
    exported = {(r.unit_code, r.competency_code): r for r in parse_unit_csv(units)}
    assert exported == _brute_force(people, ministry.units[unit])
    assert exported  # not trivially equal


def test_person_export_rows(ministry, rated, tmp_path):
    rows = list(parse_person_csv(_export(tmp_path, "--level", "person", "--framework", "EMIS-T")))
    officer = ministry.people["g1d1_officer"]
    mine = [r for r in rows if r.person_id == officer.pk]
    # Officers need D1.1 (inherited), D1.2 and D2.1, in framework order.
    assert [r.competency_code for r in mine] == ["D1.1", "D1.2", "D2.1"]
    assert {r.unit_code for r in mine} == {"G1D1"}
    assert all(r.role_code == "emis_officer" and r.sex == "M" for r in mine)
    assert any(r.current is None for r in rows)
    assert any(r.gap for r in rows)
    # Inactive staff are not exported; every active person with a role is.
    assert {r.person_id for r in rows} == set(
        Person.objects.filter(is_active=True).values_list("pk", flat=True)
    )
    unit_rows = list(parse_unit_csv(_export(tmp_path, "--level", "unit")))
    assert unit_rows[0].unit_code == "MOE"
    assert [r.competency_code for r in unit_rows[:4]] == ["D1.1", "D1.2", "D2.1", "D2.2"]


def test_person_export_streams_in_chunks(ministry, rated, django_assert_num_queries):
    framework = rated
    everyone = list(
        person_export_rows(people=person_export_queryset(user=None), framework=framework)
    )
    pages: list[int] = []
    people = person_export_queryset(user=None)
    # Competency order, requirements; then per page of 3 people: people, levels; last: empty.
    active = Person.objects.filter(is_active=True).count()
    chunks = -(-active // 3)
    with django_assert_num_queries(2 + 2 * chunks + 1):
        rows = list(
            person_export_rows(people=people, framework=framework, chunk=3, progress=pages.append)
        )
    assert rows == everyone
    assert sum(pages) == active
    assert max(pages) == 3


def test_export_to_standard_output_and_errors(ministry, rated):
    out = io.StringIO()
    call_command("export_gaps", "--level", "unit", "--unit", "G2", stdout=out)
    text = out.getvalue()
    assert text.startswith("unit_code,level_code,competency_code")
    assert {r.unit_code for r in parse_unit_csv(text)} == {"G2", "G2D1", "G2D1S1", "G2D2", "G2D2S1"}
    with pytest.raises(CommandError, match="No unit"):
        call_command("export_gaps", "--level", "unit", "--unit", "NOPE")
    with pytest.raises(CommandError, match="EMIS-T:9"):
        call_command("export_gaps", "--level", "unit", "--framework", "EMIS-T:9")
    call_command(
        "export_gaps", "--level", "unit", "--framework", "EMIS-T:1.0", stdout=io.StringIO()
    )


def test_partner_export_suppresses_small_cells(ministry, rated):
    rows = list(
        unit_export_rows(framework=rated, unit=ministry.units["G2"], user=ministry.users["partner"])
    )
    assert rows
    assert all(r.suppressed for r in rows)
    own = list(
        unit_export_rows(framework=rated, unit=ministry.units["G1"], user=ministry.users["gov1"])
    )
    assert own
    assert not any(r.suppressed for r in own)


def test_no_framework_in_use(ministry):
    with pytest.raises(CommandError, match="No published framework"):
        call_command("export_gaps", "--level", "person")


def test_the_demo_shows_gaps_at_every_level(db):
    out = io.StringIO()
    call_command("seed_demo", "--staff", "300", "--quiet", stdout=out)
    assert "Gap rollups:" in out.getvalue()
    text = io.StringIO()
    call_command("export_gaps", "--level", "unit", stdout=text)
    rows = list(parse_unit_csv(text.getvalue()))
    levels = {r.level_code for r in rows if r.assessed and r.below}
    assert levels == set(OrgUnit.objects.values_list("level__code", flat=True))

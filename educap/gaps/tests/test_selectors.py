from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from educap.assessments.consolidation import current_levels_rebuild
from educap.assessments.models import Rating
from educap.assessments.tests.factories import make_published_framework
from educap.frameworks.models import FrameworkItem
from educap.gaps.engine import gaps_rebuild
from educap.gaps.selectors import (
    GapFilters,
    person_gaps,
    recruitment_needs,
    team_gaps,
    training_needs,
    unit_matrix,
)
from educap.people.models import Vacancy

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(ministry):
    """Every requirement rated by the supervisor at 1, except the teachers' D1.1 at 3."""
    framework = make_published_framework()
    items = {i.code: i for i in FrameworkItem.objects.filter(framework=framework)}
    now = timezone.now()
    p = ministry.people
    values = {
        (p["g1d1_teacher"], "D1.1"): 3,
        (p["g2d1_teacher"], "D1.1"): 3,
        (p["g1d1_officer"], "D1.1"): 1,
        (p["g1d1_officer"], "D1.2"): 1,
        (p["g1d1_officer"], "D2.1"): 1,
        (p["g1d1_head"], "D1.1"): 1,
        (p["g1d1_head"], "D2.2"): 1,
    }
    for (person, code), value in values.items():
        Rating.objects.create(
            person=person, item=items[code], source="supervisor", value=value, rated_at=now
        )
        Rating.objects.create(
            person=person, item=items[code], source="self", value=value + 1, rated_at=now
        )
    current_levels_rebuild()
    gaps_rebuild()
    return framework, items


def test_heat_map_counts(ministry, rated):
    framework, items = rated
    matrix = unit_matrix(
        user=ministry.users["central"], unit=ministry.units["MOE"], filters=GapFilters(framework)
    )
    assert [c.code for c in matrix.competencies] == ["D1.1", "D1.2", "D2.1", "D2.2"]
    d11 = matrix.columns[items["D1.1"].pk]
    # Everyone needs D1.1 at 2: 8 people, 4 assessed, 2 teachers meet, 2 below by 1.
    assert (d11.in_scope, d11.assessed, d11.meeting, d11.below, d11.gap_sum) == (8, 4, 2, 2, 2)
    assert d11.mean_gap == pytest.approx(2 / 4)
    assert d11.mean_self_minus_supervisor == 1
    children = {unit.code: total for unit, total, _ in matrix.children}
    assert set(children) == {"G1", "G2"}
    assert matrix.children[0][0].code == "G1"


def test_partner_sees_small_cells_suppressed(ministry, rated):
    framework, _items = rated
    with pytest.raises(PermissionDenied):
        unit_matrix(
            user=ministry.users["partner"],
            unit=ministry.units["G1"],
            filters=GapFilters(framework),
        )
    matrix = unit_matrix(
        user=ministry.users["partner"], unit=ministry.units["G2"], filters=GapFilters(framework)
    )
    assert matrix.suppressed
    assert all(stats.suppressed for _, _, cells in matrix.children for stats in cells.values())


def test_training_needs_rank_by_priority(ministry, rated):
    framework, _items = rated
    needs = training_needs(
        user=ministry.users["central"], unit=ministry.units["MOE"], filters=GapFilters(framework)
    )
    # D2.1 is critical (weight 4) for the officer, 2 levels short: priority 8.
    assert needs[0].item.code == "D2.1"
    assert needs[0].stats.priority == 8
    assert sum(needs[0].below_by_role_sex.values()) == 1


def test_recruitment_needs_name_units_without_critical_skills(ministry, rated):
    framework, _items = rated
    Vacancy.objects.create(
        unit=ministry.units["G1D1S1"],
        role=ministry.people["g1d1_teacher"].role,
        opened_on=dt.date(2026, 1, 1),
    )
    needs = recruitment_needs(
        user=ministry.users["central"], unit=ministry.units["MOE"], filters=GapFilters(framework)
    )
    critical = [(n.unit.code, n.item.code) for n in needs if n.item is not None]
    # The ministry page lists the ministry and its governorates; vacancies come from below.
    assert ("G1", "D2.1") in critical
    assert not {unit for unit, _ in critical} - {"MOE", "G1", "G2"}
    # The school's post counts for the listed unit above it: its governorate.
    assert [(n.unit.code, n.vacancies, n.below) for n in needs if n.item is None] == [
        ("G1", 1, True)
    ]
    district = recruitment_needs(
        user=ministry.users["central"], unit=ministry.units["G1"], filters=GapFilters(framework)
    )
    # The district officer is below on D2.1: listed on the governorate's page.
    assert ("G1D1", "D2.1") in [(n.unit.code, n.item.code) for n in district if n.item]


def test_vacancies_count_for_the_listed_unit_above_them(ministry, rated):
    framework, _items = rated
    teacher = ministry.people["g1d1_teacher"].role
    officer = ministry.people["g1d1_officer"].role
    units = ministry.units
    for code, role, count, filled in (
        ("MOE", officer, 1, None),
        ("G1D1", officer, 2, None),
        ("G1D1S1", teacher, 3, None),
        ("G1D1S1", teacher, 1, None),
        ("G1D1S1", teacher, 5, dt.date(2026, 3, 1)),  # filled: not open any more
        ("G2", teacher, 4, None),
    ):
        Vacancy.objects.create(
            unit=units[code], role=role, count=count, opened_on=dt.date(2026, 1, 1),
            filled_on=filled,
        )  # fmt: skip

    def posts(unit: str, **kwargs):
        kwargs.setdefault("filters", GapFilters(framework))
        needs = recruitment_needs(user=ministry.users["central"], unit=units[unit], **kwargs)
        return [(n.unit.code, n.role.code, n.vacancies, n.below) for n in needs if n.item is None]

    # The unit's own posts first, then each child unit's with the units below it.
    assert posts("MOE") == [
        ("MOE", officer.code, 1, False),
        ("G1", officer.code, 2, True),
        ("G1", teacher.code, 4, True),
        ("G2", teacher.code, 4, True),
    ]
    # A school is a child unit without units below: its own posts.
    assert posts("G1D1") == [("G1D1", officer.code, 2, False), ("G1D1S1", teacher.code, 4, False)]
    # Only the child units on the dashboard's page, and only the role filtered on.
    assert posts("MOE", children=[units["G2"]]) == [
        ("MOE", officer.code, 1, False),
        ("G2", teacher.code, 4, True),
    ]
    assert posts("MOE", filters=GapFilters(framework, role=teacher)) == [
        ("G1", teacher.code, 4, True),
        ("G2", teacher.code, 4, True),
    ]


def test_recruitment_needs_read_as_many_queries_whatever_the_number_of_posts(ministry, rated):
    framework, _items = rated
    teacher = ministry.people["g1d1_teacher"].role
    units = ministry.units

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            recruitment_needs(
                user=ministry.users["central"], unit=units["MOE"], filters=GapFilters(framework)
            )
        return len(captured)

    Vacancy.objects.create(unit=units["G1D1S1"], role=teacher, opened_on=dt.date(2026, 1, 1))
    queries()  # the user's scope is read once, then remembered
    few = queries()
    Vacancy.objects.bulk_create(
        Vacancy(unit=units[code], role=teacher, count=2, opened_on=dt.date(2026, 2, 1))
        for code in ("MOE", "G1", "G1D1", "G2") * 10
    )
    assert queries() == few


def test_person_and_team_gaps(ministry, rated):
    _framework, items = rated
    summary = person_gaps(user=ministry.users["dist"], person=ministry.people["g1d1_officer"])
    assert [(g.item.code, g.gap) for g in summary.gaps] == [("D1.1", 1), ("D1.2", 2), ("D2.1", 2)]
    assert summary.weighted_gap_index == pytest.approx((2 * 1 + 2 * 2 + 4 * 2) / (4 + 6 + 12))
    assert (summary.met, summary.below, summary.unknown) == (0, 3, 0)
    with pytest.raises(PermissionDenied):
        person_gaps(user=ministry.users["teacher"], person=ministry.people["g1d1_officer"])
    _columns, rows = team_gaps(user=ministry.users["head"])
    assert [r.person for r in rows] == [ministry.people["g1d1_teacher"]]
    assert rows[0].cells[items["D1.1"].pk].status == "met"


def test_partner_never_sees_a_total_of_fewer_than_five_people(ministry, rated):
    framework, _items = rated
    matrix = unit_matrix(
        user=ministry.users["partner"], unit=ministry.units["G2"], filters=GapFilters(framework)
    )
    # G2's districts hold 2 people each: 2 x several competencies would exceed 5.
    assert all(total.suppressed for _, total, _ in matrix.children)


def _brute_force(framework, units, role=None, sex=""):
    """(unit id, item id) -> (in scope, assessed, meeting, below, gap sum) over the people
    posted in each unit (these units have no child units), one person at a time."""
    from collections import defaultdict

    from educap.assessments.models import CurrentLevel
    from educap.gaps.models import RoleRequirement
    from educap.people.models import Person

    out = defaultdict(lambda: [0, 0, 0, 0, 0])
    people = Person.objects.filter(unit__in=units, is_active=True)
    if role is not None:
        people = people.filter(role=role)
    if sex:
        people = people.filter(sex=sex)
    for person in people:
        for req in RoleRequirement.objects.filter(framework=framework, role_id=person.role_id):
            level = CurrentLevel.objects.filter(person=person, item_id=req.item_id).first()
            row = out[(person.unit_id, req.item_id)]
            row[0] += 1
            if level is not None:
                gap = max(0, req.required - level.value)
                row[1] += 1
                row[2] += gap == 0
                row[3] += gap > 0
                row[4] += gap
    return {k: tuple(v) for k, v in out.items()}


def test_schools_split_by_role_and_sex_equal_a_brute_force_count(ministry, rated):
    """Schools store one row per competency; a role or sex filter reads their people's
    current levels instead, and must give the numbers counted person by person."""
    from educap.gaps.models import RoleRequirement
    from educap.gaps.selectors import unit_headcount

    framework, _items = rated
    district = ministry.units["G1D1"]
    schools = list(district.children.all())
    assert schools
    assert not any(s.children.exists() for s in schools)
    roles = {p.role for p in ministry.people.values() if p.role is not None}
    for role in [None, *roles]:
        for sex in ("", "F", "M"):
            filters = GapFilters(framework, role=role, sex=sex)
            matrix = unit_matrix(user=ministry.users["central"], unit=district, filters=filters)
            got = {
                (child.pk, item_id): (s.in_scope, s.assessed, s.meeting, s.below, s.gap_sum)
                for child, _total, cells in matrix.children
                for item_id, s in cells.items()
            }
            assert got == _brute_force(framework, schools, role, sex), (role, sex)
            for school in schools:
                expected = _brute_force(framework, [school], role, sex)
                needs = training_needs(
                    user=ministry.users["central"], unit=school, filters=filters, limit=50
                )
                assert {n.item.pk: n.stats.below for n in needs} == {
                    item_id: v[3] for (_u, item_id), v in expected.items() if v[4]
                }
                people = school.staff.filter(is_active=True)
                if role is not None:
                    people = people.filter(role=role)
                if sex:
                    people = people.filter(sex=sex)
                required = set(
                    RoleRequirement.objects.filter(framework=framework).values_list(
                        "role_id", flat=True
                    )
                )
                headcount = unit_headcount(
                    user=ministry.users["central"], unit=school, filters=filters
                )
                assert headcount == len([p for p in people if p.role_id in required])


def test_recruitment_needs_of_schools_come_from_their_people(ministry, rated):
    from educap.core.testing import make_person
    from educap.gaps.models import RoleRequirement
    from educap.gaps.selectors import CRITICAL

    framework, _items = rated
    district = ministry.units["G1D1"]
    # An EMIS officer posted in a school, never rated: nobody there meets D2.1 (critical).
    make_person(ministry.units["G1D1S1"], ministry.people["g1d1_officer"].role, sex="F")
    expected = set()
    for school in district.children.all():
        for person in school.staff.filter(is_active=True):
            for req in RoleRequirement.objects.filter(
                framework=framework, role_id=person.role_id, weight__gte=CRITICAL
            ):
                colleagues = school.staff.filter(is_active=True, role_id=person.role_id)
                meets = any(
                    level.value >= req.required
                    for p in colleagues
                    for level in p.current_levels.filter(item_id=req.item_id)
                )
                if not meets:
                    expected.add((school.code, person.role.code, req.item.code))
    needs = recruitment_needs(
        user=ministry.users["central"], unit=district, filters=GapFilters(framework)
    )
    got = {
        (n.unit.code, n.role.code, n.item.code)
        for n in needs
        if n.item is not None and n.unit != district
    }
    assert ("G1D1S1", "emis_officer", "D2.1") in expected
    assert got == expected

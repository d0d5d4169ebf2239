"""CPD reads: a person's year against the requirement, the approvals queue, and unit
compliance checked against a brute-force count, with small cells hidden from partners."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from educap.accounts.models import GrantKind
from educap.accounts.scope import scope_for
from educap.core.testing import MiniMinistry, make_person, make_unit, make_user
from educap.org.models import OrgUnit
from educap.people.models import Person, Role
from educap.training.models import CpdKind, CpdRequirement, CpdStatus
from educap.training.selectors.cpd import (
    cpd_approval_queue,
    cpd_progress,
    cpd_record_list,
    cpd_requirement_rows,
    cpd_staff_progress,
    unit_compliance,
)
from educap.training.tests.test_cpd_services import make_record

pytestmark = pytest.mark.django_db
YEAR = 2025


def role(ministry: MiniMinistry, key: str) -> Role:
    found = ministry.people[key].role
    assert found is not None
    return found


# --- a person's year -------------------------------------------------------------------


def test_progress_counts_approved_records_of_the_year_only(ministry) -> None:
    teacher = ministry.people["g1d1_teacher"]
    CpdRequirement.objects.create(role=teacher.role, year=YEAR, hours=Decimal(20))
    make_record(teacher, completed_on=dt.date(YEAR, 1, 1), hours=Decimal("7.5"))
    make_record(teacher, completed_on=dt.date(YEAR, 12, 31), hours=Decimal(5))
    make_record(teacher, completed_on=dt.date(YEAR - 1, 12, 31), hours=Decimal(100))
    make_record(teacher, completed_on=dt.date(YEAR + 1, 1, 1), hours=Decimal(100))
    make_record(teacher, completed_on=dt.date(YEAR, 6, 1), hours=4, status=CpdStatus.PENDING)
    make_record(teacher, completed_on=dt.date(YEAR, 6, 2), hours=50, status=CpdStatus.REJECTED)
    progress = cpd_progress(user=ministry.users["teacher"], person=teacher, year=YEAR)
    assert progress.approved_hours == Decimal("12.5")
    assert progress.approved_count == 2
    assert (progress.pending_hours, progress.pending_count) == (Decimal(4), 1)
    assert progress.rejected_count == 1
    (meter,) = progress.meters
    assert meter.measure == "hours"
    assert meter.remaining == Decimal("7.5")
    assert (meter.percent, meter.approved_step, meter.pending_step) == (62, 60, 20)
    assert progress.compliant is False
    make_record(teacher, completed_on=dt.date(YEAR, 3, 3), hours=Decimal("7.5"))
    progress = cpd_progress(user=ministry.users["teacher"], person=teacher, year=YEAR)
    assert progress.compliant is True


def test_requirements_in_credits_or_both(ministry) -> None:
    head = ministry.people["g1d1_head"]
    requirement = CpdRequirement.objects.create(role=head.role, year=YEAR, credits=Decimal(3))
    make_record(head, completed_on=dt.date(YEAR, 5, 5), hours=Decimal(40), credits=Decimal(2))
    progress = cpd_progress(user=ministry.users["head"], person=head, year=YEAR)
    assert [m.measure for m in progress.meters] == ["credits"]
    assert progress.compliant is False
    make_record(head, completed_on=dt.date(YEAR, 5, 6), hours=Decimal(0), credits=Decimal(1))
    assert cpd_progress(user=ministry.users["head"], person=head, year=YEAR).compliant is True
    requirement.hours = Decimal(50)
    requirement.save()
    progress = cpd_progress(user=ministry.users["head"], person=head, year=YEAR)
    assert [m.measure for m in progress.meters] == ["hours", "credits"]
    assert progress.compliant is False


def test_no_requirement_means_no_verdict(ministry) -> None:
    teacher = ministry.people["g1d1_teacher"]
    make_record(teacher, completed_on=dt.date(YEAR, 5, 5))
    progress = cpd_progress(user=ministry.users["teacher"], person=teacher, year=YEAR)
    assert progress.meters == []
    assert progress.compliant is None
    assert progress.approved_hours == 5


def test_progress_is_scoped(ministry) -> None:
    teacher = ministry.people["g1d1_teacher"]
    for username in ("head", "dist", "central"):
        cpd_progress(user=ministry.users[username], person=teacher, year=YEAR)
    for username in ("partner", "trainer"):
        with pytest.raises(PermissionDenied):
            cpd_progress(user=ministry.users[username], person=teacher, year=YEAR)
    with pytest.raises(PermissionDenied):
        cpd_progress(user=ministry.users["teacher"], person=ministry.people["g1d1_head"], year=YEAR)


def test_record_list_is_scoped(ministry) -> None:
    p = ministry.people
    for key in ("g1d1_teacher", "g1d1_head", "g1d2_teacher", "g2d1_teacher"):
        make_record(p[key], title=key)

    def titles(username: str) -> set[str]:
        return {r.title for r in cpd_record_list(user=ministry.users[username])}

    assert titles("teacher") == {"g1d1_teacher"}
    assert titles("head") == {"g1d1_teacher", "g1d1_head"}
    assert titles("dist") == {"g1d1_teacher", "g1d1_head"}
    assert titles("gov1") == {"g1d1_teacher", "g1d1_head", "g1d2_teacher"}
    assert len(titles("central")) == 4
    assert titles("partner") == set()


def test_approval_queue(ministry) -> None:
    p = ministry.people
    pending = {
        key: make_record(p[key], title=key, status=CpdStatus.PENDING)
        for key in ("g1d1_teacher", "g1d1_head", "g1d1_officer", "g2d1_teacher")
    }
    make_record(p["g1d1_teacher"], title="done")

    def queue(username: str, **filters: Any) -> set[str]:
        return {r.title for r in cpd_approval_queue(user=ministry.users[username], **filters)}

    assert queue("head") == {"g1d1_teacher"}
    # The district officer decides on their district, never on their own record.
    assert queue("dist") == {"g1d1_teacher", "g1d1_head"}
    assert queue("gov1") == {"g1d1_teacher", "g1d1_head", "g1d1_officer"}
    assert queue("admin") == set(pending)
    assert queue("teacher") == queue("partner") == set()
    assert queue("central", search="g2d1") == {"g2d1_teacher"}
    family = p["g1d1_head"].family_name
    assert queue("central", search=family) == {"g1d1_head"}
    assert queue("central", kind=CpdKind.WEBINAR) == set()


# --- unit compliance -------------------------------------------------------------------


def _populate(ministry: MiniMinistry, seed: int = 7) -> None:
    """Requirements in hours, credits and both; extra staff in every school; records of
    every status in and around the year."""
    rnd = random.Random(seed)
    CpdRequirement.objects.create(role=role(ministry, "g1d1_teacher"), year=YEAR, hours=20)
    CpdRequirement.objects.create(role=role(ministry, "g1d1_head"), year=YEAR, credits=3)
    CpdRequirement.objects.create(
        role=role(ministry, "central"), year=YEAR, hours=Decimal("10.5"), credits=1
    )
    CpdRequirement.objects.create(role=role(ministry, "g1d1_teacher"), year=YEAR + 1, hours=99)
    clerk = Role.objects.create(code="clerk", name="Clerk")  # no requirement
    roles = [role(ministry, k) for k in ("g1d1_teacher", "g1d1_head", "central")] + [clerk]
    for school in OrgUnit.objects.filter(level__code="school"):
        for n in range(rnd.randint(3, 9)):
            make_person(school, rnd.choice(roles), sex=rnd.choice("FM"), is_active=n != 0)
    days = [dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31), dt.date(YEAR - 1, 12, 31)]
    days += [dt.date(YEAR + 1, 1, 1), dt.date(YEAR, 7, 1)]
    for person in Person.objects.all():
        for _ in range(rnd.randint(0, 4)):
            make_record(
                person,
                completed_on=rnd.choice(days),
                hours=Decimal(rnd.randint(0, 24)) / 2,
                credits=Decimal(rnd.choice([0, 0, 1, 2])),
                status=rnd.choice(list(CpdStatus)),
            )


def _brute_force(unit: OrgUnit, year: int, role_: Role | None = None, sex: str = "") -> dict:
    """{child unit id or None: (staff, compliant, hours)} person by person, in Python."""
    requirements = {r.role_id: r for r in CpdRequirement.objects.filter(year=year)}
    children = list(OrgUnit.objects.filter(parent=unit))
    out: dict[int | None, list[Any]] = {}
    for person in Person.objects.select_related("unit"):
        req = requirements.get(person.role_id)
        if req is None or not person.is_active or not person.unit.path.startswith(unit.path):
            continue
        if (role_ is not None and person.role_id != role_.pk) or (sex and person.sex != sex):
            continue
        records = person.cpd_records.filter(status=CpdStatus.APPROVED)
        records = [r for r in records if r.completed_on.year == year]
        hours = sum((r.hours for r in records), Decimal(0))
        credits = sum((r.credits for r in records), Decimal(0))
        ok = (req.hours is None or hours >= req.hours) and (
            req.credits is None or credits >= req.credits
        )
        child = next((c.pk for c in children if person.unit.path.startswith(c.path)), None)
        row = out.setdefault(child, [0, 0, Decimal(0)])
        row[0] += 1
        row[1] += int(ok)
        row[2] += hours
    return {k: tuple(v) for k, v in out.items()}


@pytest.mark.parametrize("code", ["MOE", "G1", "G1D1", "G2D1S1"])
@pytest.mark.parametrize(("role_key", "sex"), [(None, ""), ("g1d1_teacher", ""), (None, "F")])
def test_unit_compliance_matches_a_brute_force_count(ministry, code, role_key, sex) -> None:
    _populate(ministry)
    unit = ministry.units[code]
    role_ = role(ministry, role_key) if role_key else None
    board = unit_compliance(user=ministry.users["admin"], unit=unit, year=YEAR, role=role_, sex=sex)
    expected = _brute_force(unit, YEAR, role_, sex)
    got = {child.pk: (c.staff, c.compliant, c.hours) for child, c in board.children}
    if board.own.staff:
        got[None] = (board.own.staff, board.own.compliant, board.own.hours)
    assert got == expected
    assert board.total.staff == sum(v[0] for v in expected.values())
    assert board.total.compliant == sum(v[1] for v in expected.values())
    assert sum(c.staff for _r, c in board.by_role) == board.total.staff
    assert sum(c.compliant for _v, _l, c in board.by_sex) == board.total.compliant
    assert not board.suppressed


def test_amounts_add_up_exactly(ministry) -> None:
    # 0.7 + 0.1 is 0.7999… in floating point: still compliant with 0.8 required.
    teacher = ministry.people["g1d1_teacher"]
    CpdRequirement.objects.create(role=teacher.role, year=YEAR, hours=Decimal("0.8"))
    make_record(teacher, completed_on=dt.date(YEAR, 2, 2), hours=Decimal("0.7"))
    make_record(teacher, completed_on=dt.date(YEAR, 2, 3), hours=Decimal("0.1"))
    board = unit_compliance(user=ministry.users["admin"], unit=teacher.unit, year=YEAR)
    assert (board.total.staff, board.total.compliant) == (1, 1)
    assert board.total.hours == Decimal("0.8")
    people = cpd_staff_progress(user=ministry.users["admin"], unit=teacher.unit, year=YEAR)
    assert [p.compliant for p in people] == [True]


def test_unit_compliance_costs_the_same_whatever_the_subtree(ministry) -> None:
    _populate(ministry)
    admin, unit = ministry.users["admin"], ministry.units["MOE"]
    scope_for(admin)  # the grants, read once per request
    with CaptureQueriesContext(connection) as small:
        unit_compliance(user=admin, unit=unit, year=YEAR)
    for n in range(10):
        school = make_unit(f"NEW{n}", ministry.levels["school"], ministry.units["G2D2"])
        for _ in range(4):
            make_record(make_person(school, role(ministry, "g1d1_teacher")))
    with CaptureQueriesContext(connection) as large:
        board = unit_compliance(user=admin, unit=unit, year=YEAR)
    assert len(large) == len(small) <= 3
    assert board.total.staff == _brute_force_total(unit)


def _brute_force_total(unit: OrgUnit) -> int:
    return sum(v[0] for v in _brute_force(unit, YEAR).values())


def test_unit_compliance_is_scoped(ministry) -> None:
    _populate(ministry)
    for username in ("teacher", "head", "trainer"):
        with pytest.raises(PermissionDenied):
            unit_compliance(user=ministry.users[username], unit=ministry.units["G1D1"], year=YEAR)
    with pytest.raises(PermissionDenied):
        unit_compliance(user=ministry.users["dist"], unit=ministry.units["G1"], year=YEAR)
    with pytest.raises(PermissionDenied):
        unit_compliance(user=ministry.users["partner"], unit=ministry.units["G1"], year=YEAR)
    board = unit_compliance(user=ministry.users["dist"], unit=ministry.units["G1D1"], year=YEAR)
    assert not board.suppressed


def test_partner_viewers_see_small_groups_hidden(ministry, settings) -> None:
    settings.EDUCAP_SMALL_CELL_THRESHOLD = 5
    teacher_role = role(ministry, "g1d1_teacher")
    CpdRequirement.objects.create(role=teacher_role, year=YEAR, hours=10)
    d1, d2 = ministry.units["G2D1S1"], ministry.units["G2D2S1"]
    # With the mini ministry's own teacher: 6 teachers in G2D1S1, 2 in G2D2S1.
    for _ in range(5):
        make_person(d1, teacher_role, sex="M")
    make_person(d2, teacher_role, sex="M")
    make_person(d2, teacher_role, sex="F")
    partner, admin = ministry.users["partner"], ministry.users["admin"]
    board = unit_compliance(user=partner, unit=ministry.units["G2"], year=YEAR)
    assert board.suppressed
    cells = {child.code: cell for child, cell in board.children}
    assert cells["G2D1"].staff == 6
    assert not cells["G2D1"].suppressed
    assert cells["G2D2"].suppressed  # 2 people
    assert not board.total.suppressed
    # Sexes: 2 women (hidden) and 6 men.
    assert [(value, cell.suppressed) for value, _l, cell in board.by_sex] == [
        ("F", True),
        ("M", False),
    ]
    # The same subtree for an administrator: nothing hidden.
    full = unit_compliance(user=admin, unit=ministry.units["G2"], year=YEAR)
    assert not any(cell.suppressed for _c, cell in full.children)
    # A partner drilling into a small unit sees nothing but "<5".
    small = unit_compliance(user=partner, unit=ministry.units["G2D2"], year=YEAR)
    assert small.total.suppressed
    assert small.people_hidden
    # Staff lists are never shown to partners.
    with pytest.raises(PermissionDenied):
        cpd_staff_progress(user=partner, unit=ministry.units["G2"], year=YEAR)


def test_managers_over_a_partner_subtree_see_everything(ministry) -> None:
    CpdRequirement.objects.create(role=role(ministry, "g1d1_teacher"), year=YEAR, hours=10)
    manager = make_user("g2manager", None, [(GrantKind.UNIT_MANAGER, ministry.units["G2"])])
    board = unit_compliance(user=manager, unit=ministry.units["G2"], year=YEAR)
    assert not board.suppressed
    assert board.total.staff == 1  # g2d1_teacher, shown although under 5


def test_staff_progress_matches_the_person_view(ministry) -> None:
    _populate(ministry)
    dist = ministry.users["dist"]
    unit = ministry.units["G1D1"]
    people = list(cpd_staff_progress(user=dist, unit=unit, year=YEAR))
    assert {p.pk for p in people} == {
        p.pk
        for p in Person.objects.filter(
            unit__path__startswith=unit.path,
            is_active=True,
            role_id__in=CpdRequirement.objects.filter(year=YEAR).values("role_id"),
        )
    }
    for person in people:
        progress = cpd_progress(user=dist, person=person, year=YEAR)
        assert person.approved_hours == progress.approved_hours
        assert person.approved_credits == progress.approved_credits
        assert person.pending_hours == progress.pending_hours
        assert person.compliant == progress.compliant
    behind = cpd_staff_progress(user=dist, unit=unit, year=YEAR, state="behind")
    compliant = cpd_staff_progress(user=dist, unit=unit, year=YEAR, state="compliant")
    assert behind.count() + compliant.count() == len(people)
    assert all(not p.compliant for p in behind)
    with pytest.raises(PermissionDenied):
        cpd_staff_progress(user=dist, unit=ministry.units["G1"], year=YEAR)


def test_requirement_rows_show_every_role_with_this_and_last_year(ministry) -> None:
    teacher = role(ministry, "g1d1_teacher")
    CpdRequirement.objects.create(role=teacher, year=YEAR, hours=20)
    CpdRequirement.objects.create(role=teacher, year=YEAR - 1, hours=15)
    rows = {r.role.code: r for r in cpd_requirement_rows(year=YEAR)}
    assert set(rows) == set(Role.objects.values_list("code", flat=True))
    assert rows["teacher"].requirement.hours == 20  # type: ignore[union-attr]
    assert rows["teacher"].previous.hours == 15  # type: ignore[union-attr]
    assert rows["head_teacher"].requirement is None
    assert [r.role.code for r in cpd_requirement_rows(year=YEAR, search="head")] == ["head_teacher"]

"""The demo ministry generator (`seed_demo`) and its pure planning functions."""

from __future__ import annotations

import io
import re

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import Client

from educap.accounts.models import GrantKind, User
from educap.audit.models import AuditEvent
from educap.core import demo
from educap.org.models import OrgLevel, OrgUnit
from educap.people.models import Assignment, Person, Vacancy

STAFF = 300


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--staff", str(STAFF), "--quiet", *args, stdout=out)
    return out.getvalue()


def staff_snapshot() -> list[tuple[object, ...]]:
    return list(
        Person.objects.order_by("staff_number").values_list(
            "staff_number",
            "given_name",
            "family_name",
            "name_local",
            "sex",
            "birth_year",
            "hire_date",
            "email",
            "unit__code",
            "role__code",
            "supervisor__staff_number",
        )
    )


@pytest.fixture
def seeded(db: None) -> str:
    return seed()


# --- pure planning -------------------------------------------------------------------------


def test_shape_scales_with_staff() -> None:
    assert demo.demo_shape(5_000) == (6, 30, 600)
    governorates, districts, schools = demo.demo_shape(1_000_000)
    assert 18 <= governorates <= 22
    assert 550 <= districts <= 650
    assert schools == 120_000


def test_plan_headcount_is_exact_and_every_school_is_staffed() -> None:
    plan = demo.demo_plan(staff=5_000, seed=7)
    assert sum(plan.headcount) == 5_000
    assert (plan.count(demo.GOVERNORATE), plan.count(demo.DISTRICT)) == (6, 30)
    assert plan.count(demo.SCHOOL) == 600
    schools = [i for i, unit in enumerate(plan.units) if unit.level == demo.SCHOOL]
    assert min(plan.headcount[i] for i in schools) >= 3
    assert len({unit.code for unit in plan.units}) == len(plan.units)
    assert plan.vacancies


def test_plan_and_staff_are_deterministic() -> None:
    first = demo.demo_plan(staff=400, seed=3)
    again = demo.demo_plan(staff=400, seed=3)
    other = demo.demo_plan(staff=400, seed=4)
    assert first == again
    assert list(demo.demo_staff(first)) == list(demo.demo_staff(again))
    assert list(demo.demo_staff(first)) != list(demo.demo_staff(other))


def test_too_few_staff_is_refused(db: None) -> None:
    with pytest.raises(CommandError, match="at least"):
        call_command("seed_demo", "--staff", "10", stdout=io.StringIO())


# --- the loaded ministry -------------------------------------------------------------------


def test_levels_and_unit_tree(seeded: str) -> None:
    levels = {level.code: level.depth for level in OrgLevel.objects.all()}
    assert levels == {"ministry": 0, "governorate": 1, "district": 2, "school": 3}
    units = {unit.pk: unit for unit in OrgUnit.objects.select_related("level")}
    (root,) = [u for u in units.values() if u.parent_id is None]
    assert (root.code, root.path, root.depth) == ("MOE", f"{root.pk}/", 0)
    patterns = {
        "governorate": r"GOV\d{2}",
        "district": r"GOV\d{2}-D\d{2}",
        "school": r"GOV\d{2}-D\d{2}-S\d{3}",
    }
    for unit in units.values():
        assert unit.depth == unit.level.depth
        if unit.parent_id is not None:
            parent = units[unit.parent_id]
            assert unit.path == f"{parent.path}{unit.pk}/"
            assert unit.level.depth == parent.level.depth + 1
            assert re.fullmatch(patterns[unit.level.code], unit.code)
            assert unit.code.startswith(parent.code) or parent.code == "MOE"
        assert all((unit.name_en, unit.name_fr, unit.name_lo))
        assert re.search(r"[\u0600-\u06ff]", unit.name_ar)
    assert OrgUnit.objects.filter(level__code="governorate").count() >= 2
    assert OrgUnit.objects.filter(level__code="school").count() >= 20


def test_every_school_has_one_head_teacher_and_a_teacher(seeded: str) -> None:
    for school in OrgUnit.objects.filter(level__code="school"):
        roles = list(school.staff.values_list("role__code", flat=True))
        assert roles.count("head_teacher") == 1
        assert "teacher" in roles


def test_people_mirror_their_single_assignment(seeded: str) -> None:
    assert Person.objects.count() == STAFF
    assignments = {a.person_id: a for a in Assignment.objects.all()}
    assert len(assignments) == STAFF == Assignment.objects.count()
    for person in Person.objects.all():
        post = assignments[person.pk]
        assert (post.unit_id, post.role_id, post.supervisor_id) == (
            person.unit_id,
            person.role_id,
            person.supervisor_id,
        )
        assert post.is_primary
        assert post.end_date is None
        assert person.hire_date is not None
        assert post.start_date >= person.hire_date
        assert 1962 <= (person.birth_year or 0) <= 2000


def test_supervisors_sit_on_the_path_and_supervise(seeded: str) -> None:
    people = Person.objects.select_related("unit", "supervisor__unit", "supervisor__role")
    tops = [p for p in people if p.supervisor_id is None]
    assert [p.unit.code for p in tops if p.unit] == ["MOE"]
    for person in people:
        boss = person.supervisor
        if boss is None:
            continue
        assert person.unit is not None
        assert boss.unit is not None
        assert boss.role is not None
        assert person.unit.path.startswith(boss.unit.path)
        assert boss.role.is_supervisory
        if person.role and person.role.code in {"teacher", "data_clerk"} and person.unit.depth == 3:
            assert (boss.role.code, boss.unit_id) == ("head_teacher", person.unit_id)


def test_identifiers_and_sex_balance(seeded: str) -> None:
    numbers = list(Person.objects.values_list("staff_number", flat=True))
    assert len(set(numbers)) == STAFF
    assert all(re.fullmatch(r"EDU\d{7}", n) for n in numbers)
    emails = list(Person.objects.values_list("email", flat=True))
    assert all(re.fullmatch(r"[a-z\-]+\.[a-z\-]+\.\d+@moe\.example", e) for e in emails)
    local_names = Person.objects.values_list("name_local", flat=True)
    assert all(re.search(r"[\u0600-\u06ff]", name) for name in local_names)
    female = Person.objects.filter(sex="F").count() / STAFF
    assert 0.40 <= female <= 0.70
    teachers = Person.objects.filter(role__code="teacher")
    assert 0.45 <= teachers.filter(sex="F").count() / teachers.count() <= 0.75


def test_one_audit_event_for_the_data_not_one_per_row(seeded: str) -> None:
    assert AuditEvent.objects.filter(object_type="core.demo").count() == 1
    # Hundreds of enrolments, completions and CPD records: one event.
    assert AuditEvent.objects.filter(object_type__startswith="training.").count() == 1
    # The rest are the handful of demo accounts and their grants, the framework, the
    # demo campaigns and the survey.
    assert AuditEvent.objects.count() < 30


def test_same_seed_same_staff_and_another_seed_differs(seeded: str) -> None:
    first = staff_snapshot()
    seed("--force")
    assert staff_snapshot() == first
    seed("--force", "--seed", "99")
    assert staff_snapshot() != first
    assert Person.objects.count() == STAFF


def test_if_empty_leaves_a_loaded_database_alone(seeded: str) -> None:
    before = (OrgUnit.objects.count(), Person.objects.count(), Vacancy.objects.count())
    events = AuditEvent.objects.count()
    out = seed("--if-empty")
    assert "database already has data; demo not loaded" in out
    assert "supervisor" in out
    assert settings.EDUCAP_DEMO_PASSWORD in out
    after = (OrgUnit.objects.count(), Person.objects.count(), Vacancy.objects.count())
    assert after == before
    assert AuditEvent.objects.count() == events


def test_a_loaded_database_is_refused_without_force(seeded: str) -> None:
    with pytest.raises(CommandError, match="--force"):
        seed()


def test_demo_users_have_their_grants_and_the_demo_password(seeded: str) -> None:
    expected = {
        "admin": {(GrantKind.SYSTEM_ADMIN, None)},
        "central": {(GrantKind.CENTRAL_OFFICER, "MOE")},
        "governorate": {(GrantKind.UNIT_MANAGER, "GOV01")},
        "district": {(GrantKind.UNIT_MANAGER, "GOV01-D01")},
        "supervisor": {(GrantKind.SUPERVISOR, None), (GrantKind.STAFF, None)},
        "staff": {(GrantKind.STAFF, None)},
        "trainer": {(GrantKind.TRAINER, None)},
        "partner": {(GrantKind.PARTNER_VIEWER, "GOV02")},
    }
    for username, grants in expected.items():
        user = User.objects.get(username=username)
        assert {(g.kind, g.unit.code if g.unit else None) for g in user.grants.all()} == grants
        assert user.language == ""
        assert authenticate(username=username, password=settings.EDUCAP_DEMO_PASSWORD) == user
        assert username in seeded
    users = {u.username: u for u in User.objects.select_related("person__role", "person__unit")}
    assert [name for name, user in users.items() if user.is_superuser] == ["admin"]
    roles = {name: u.person.role.code for name, u in users.items() if u.person and u.person.role}
    assert roles["governorate"] == "governorate_director"
    assert roles["district"] == "district_education_officer"
    assert roles["supervisor"] == "head_teacher"
    assert roles["staff"] == "teacher"
    assert users["central"].person.unit.code == "MOE"  # type: ignore[union-attr]
    assert users["trainer"].person.unit.code == "MOE"  # type: ignore[union-attr]
    head = users["supervisor"].person
    assert head is not None
    assert head.unit is not None
    assert head.unit.code.startswith("GOV01-D01-")
    assert users["staff"].person.supervisor == head  # type: ignore[union-attr]
    assert Client().login(username="staff", password=settings.EDUCAP_DEMO_PASSWORD)

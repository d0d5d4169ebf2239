"""Staff import service: checks against the database, all-or-nothing apply, idempotence."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from educap.audit.models import AuditAction, AuditEvent
from educap.core.testing import MiniMinistry, make_role
from educap.people.importing import (
    StaffImportErrorCode,
    staff_import_apply,
    staff_import_plan,
)
from educap.people.io.staff import ALL_COLUMNS, StaffRecord, parse_csv
from educap.people.models import Assignment, Person

pytestmark = pytest.mark.django_db


def rec(staff_number: str, row: int = 2, **extra: Any) -> StaffRecord:
    values: dict[str, Any] = {
        "given_name": "Amal",
        "family_name": "Haddad",
        "sex": "F",
        "unit_code": "G1D1S1",
        "role_code": "teacher",
    }
    values.update(extra)
    return StaffRecord(staff_number=staff_number, row=row, **values)


def numbered(*records: StaffRecord) -> list[StaffRecord]:
    return [replace(r, row=i) for i, r in enumerate(records, start=2)]


def import_all(records: list[StaffRecord], actor: Any = None) -> dict[str, int]:
    plan = staff_import_plan(actor=actor, records=records)
    assert plan.problems == []
    return staff_import_apply(actor=actor, plan=plan)


def test_new_people_get_a_first_post_and_one_audit_event(ministry: MiniMinistry) -> None:
    head = ministry.people["g1d1_head"]
    counts = import_all(
        numbered(
            rec("N1", supervisor_staff_number=head.staff_number, email="amal@example.org"),
            rec("N2", sex="M", given_name="Omar", unit_code="G1D1", role_code="emis_officer"),
        ),
        actor=ministry.users["admin"],
    )
    assert counts == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0, "posts_changed": 0}
    n1 = Person.objects.get(staff_number="N1")
    assert (n1.unit, n1.role.code, n1.supervisor) == (
        ministry.units["G1D1S1"],
        "teacher",
        head,
    )
    assert n1.email == "amal@example.org"
    assert n1.is_active
    post = n1.assignments.get()
    assert (post.start_date, post.end_date, post.supervisor) == (timezone.localdate(), None, head)
    events = AuditEvent.objects.filter(action=AuditAction.IMPORT)
    assert events.count() == 1
    assert events.get().after["created"] == 2
    assert events.get().actor == ministry.users["admin"]


def test_supervisor_defined_later_in_the_same_file(ministry: MiniMinistry) -> None:
    import_all(
        numbered(
            rec("T1", supervisor_staff_number="H1"),
            rec("T2", supervisor_staff_number="H1", start_date=dt.date(2099, 1, 1)),
            rec("H1", role_code="head_teacher", supervisor_staff_number="NOT-YET-B"),
            rec("NOT-YET-B", unit_code="G1D1", role_code="emis_officer"),
        )
    )
    h1 = Person.objects.get(staff_number="H1")
    t1 = Person.objects.get(staff_number="T1")
    assert t1.supervisor == h1
    assert t1.assignments.get().supervisor == h1
    assert h1.supervisor == Person.objects.get(staff_number="NOT-YET-B")
    # A post starting in the future is recorded but not yet mirrored on the person.
    t2 = Person.objects.get(staff_number="T2")
    assert (t2.unit, t2.role, t2.supervisor) == (None, None, None)
    assert t2.assignments.get().supervisor == h1


def test_reimporting_the_same_file_changes_nothing(ministry: MiniMinistry) -> None:
    data = (
        b"staff_number,given_name,family_name,sex,unit_code,role_code,email,birth_year,"
        b"hire_date,supervisor_staff_number,start_date,active\n"
        b"R1,Lina,Saleh,F,G1D1S1,teacher,lina@example.org,1990,2015-09-01,R2,2024-09-01,yes\n"
        b"R2,Karim,Nasser,M,G1D1S1,head_teacher,,1975,,,2024-09-01,yes\n"
        b"R3,Hiba,Khoury,F,G1D1S1,teacher,,,,R2,2099-01-01,no\n"
    )
    first = parse_csv(data)
    import_all(first.records)
    before_people = {p.pk: p.updated_at for p in Person.objects.all()}
    before_posts = list(Assignment.objects.values_list("id", "unit_id", "end_date"))

    again = staff_import_plan(actor=None, records=parse_csv(data).records)
    assert (again.created, again.updated, again.posts_changed, again.unchanged) == (0, 0, 0, 3)
    assert again.changes == []
    staff_import_apply(actor=None, plan=again)
    assert {p.pk: p.updated_at for p in Person.objects.all()} == before_people
    assert list(Assignment.objects.values_list("id", "unit_id", "end_date")) == before_posts


def test_a_problem_anywhere_means_nothing_is_imported(ministry: MiniMinistry) -> None:
    plan = staff_import_plan(
        actor=None, records=numbered(rec("OK1"), rec("BAD", unit_code="NOWHERE"), rec("OK2"))
    )
    assert [(p.row, p.column, p.code) for p in plan.problems] == [
        (3, "unit_code", StaffImportErrorCode.UNKNOWN_UNIT)
    ]
    with pytest.raises(ValidationError) as refused:
        staff_import_apply(actor=None, plan=plan)
    assert refused.value.code == StaffImportErrorCode.PLAN_HAS_PROBLEMS
    assert not Person.objects.filter(staff_number__in=["OK1", "OK2"]).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.IMPORT).exists()


def test_a_crash_half_way_leaves_the_database_as_it_was(
    ministry: MiniMinistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    people, posts = Person.objects.count(), Assignment.objects.count()
    plan = staff_import_plan(actor=None, records=numbered(rec("C1"), rec("C2")))

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Assignment.objects, "bulk_create", crash)
    with pytest.raises(RuntimeError):
        staff_import_apply(actor=None, plan=plan)
    assert (Person.objects.count(), Assignment.objects.count()) == (people, posts)


def test_every_problem_is_reported_with_row_and_column(ministry: MiniMinistry) -> None:
    teacher = ministry.people["g1d1_teacher"]
    plan = staff_import_plan(
        actor=None,
        records=numbered(
            rec("P1", role_code="astronaut"),
            rec("P2", supervisor_staff_number="GHOST"),
            rec("P3", supervisor_staff_number="P3"),
            rec("P1"),
            rec("P5", email="not-an-address"),
            rec("P6", birth_year=1890),
            rec("P7", unit_code="NOWHERE"),
            rec(teacher.staff_number, supervisor_staff_number=teacher.staff_number),
        ),
    )
    assert [(p.row, p.column, p.code) for p in plan.problems] == [
        (2, "role_code", StaffImportErrorCode.UNKNOWN_ROLE),
        (3, "supervisor_staff_number", StaffImportErrorCode.UNKNOWN_SUPERVISOR),
        (4, "supervisor_staff_number", StaffImportErrorCode.SELF_SUPERVISION),
        (5, "staff_number", StaffImportErrorCode.DUPLICATE_STAFF_NUMBER),
        (6, "email", StaffImportErrorCode.INVALID_EMAIL),
        (7, "birth_year", StaffImportErrorCode.BIRTH_YEAR_OUT_OF_RANGE),
        (8, "unit_code", StaffImportErrorCode.UNKNOWN_UNIT),
        (9, "supervisor_staff_number", StaffImportErrorCode.SELF_SUPERVISION),
    ]
    assert "row 2" in plan.problems[3].message
    assert "GHOST" in plan.problems[1].message
    assert "1930" in plan.problems[5].message


def test_a_post_change_ends_the_old_post_the_day_before(ministry: MiniMinistry) -> None:
    teacher = ministry.people["g1d1_teacher"]
    old = teacher.assignments.get()
    start = timezone.localdate() - dt.timedelta(days=10)
    plan = staff_import_plan(
        actor=ministry.users["gov1"],
        records=numbered(
            rec(
                teacher.staff_number,
                given_name=teacher.given_name,
                family_name=teacher.family_name,
                sex=teacher.sex,
                unit_code="G1D2S1",
                supervisor_staff_number="",
                start_date=start,
            )
        ),
    )
    assert plan.problems == []
    assert (plan.posts_changed, plan.updated, plan.created) == (1, 0, 0)
    change = plan.changes[0]
    assert change.post_before is not None
    assert change.post_before.unit_code == "G1D1S1"
    assert change.post_after is not None
    assert change.post_after.unit_code == "G1D2S1"
    staff_import_apply(actor=ministry.users["gov1"], plan=plan)

    old.refresh_from_db()
    assert old.end_date == start - dt.timedelta(days=1)
    new = teacher.assignments.get(end_date__isnull=True)
    assert (new.unit.code, new.start_date, new.supervisor) == ("G1D2S1", start, None)
    teacher.refresh_from_db()
    assert (teacher.unit.code, teacher.supervisor) == ("G1D2S1", None)


def test_a_new_supervisor_alone_is_a_post_change(ministry: MiniMinistry) -> None:
    teacher = ministry.people["g1d1_teacher"]
    officer = ministry.people["g1d1_officer"]
    plan = staff_import_plan(
        actor=None,
        records=numbered(
            rec(
                teacher.staff_number,
                given_name=teacher.given_name,
                family_name=teacher.family_name,
                sex=teacher.sex,
                supervisor_staff_number=officer.staff_number,
            )
        ),
    )
    assert plan.posts_changed == 1
    staff_import_apply(actor=None, plan=plan)
    teacher.refresh_from_db()
    assert teacher.supervisor == officer
    assert teacher.assignments.count() == 2


def test_same_day_post_change_corrects_the_post_in_place(ministry: MiniMinistry) -> None:
    import_all(numbered(rec("SD1")))
    import_all(numbered(rec("SD1", unit_code="G1D2S1")))
    person = Person.objects.get(staff_number="SD1")
    assert list(person.assignments.values_list("unit__code", "end_date")) == [("G1D2S1", None)]
    assert person.unit == ministry.units["G1D2S1"]


def test_a_new_post_cannot_start_before_the_current_one(ministry: MiniMinistry) -> None:
    teacher = ministry.people["g1d1_teacher"]  # current post started 2020-01-01
    plan = staff_import_plan(
        actor=None,
        records=numbered(
            rec(teacher.staff_number, unit_code="G1D2S1", start_date=dt.date(2019, 6, 1))
        ),
    )
    assert [(p.column, p.code) for p in plan.problems] == [
        ("start_date", StaffImportErrorCode.POST_START_CONFLICT)
    ]


def test_field_changes_are_listed_and_applied_without_a_new_post(ministry: MiniMinistry) -> None:
    teacher = ministry.people["g1d1_teacher"]
    head = ministry.people["g1d1_head"]
    record = rec(
        teacher.staff_number,
        given_name=teacher.given_name,
        family_name="Renamed",
        sex=teacher.sex,
        supervisor_staff_number=head.staff_number,
        email="new@example.org",
    )
    plan = staff_import_plan(actor=None, records=[record])
    assert (plan.updated, plan.posts_changed) == (1, 0)
    assert plan.changes[0].fields == {
        "email": ("", "new@example.org"),
        "family_name": (teacher.family_name, "Renamed"),
    }
    staff_import_apply(actor=None, plan=plan)
    teacher.refresh_from_db()
    assert (teacher.family_name, teacher.email) == ("Renamed", "new@example.org")
    assert teacher.assignments.count() == 1


def test_columns_missing_from_the_file_keep_their_stored_values(ministry: MiniMinistry) -> None:
    teacher = ministry.people["g1d1_teacher"]
    Person.objects.filter(pk=teacher.pk).update(email="keep@example.org", is_active=False)
    record = replace(
        rec(
            teacher.staff_number,
            given_name=teacher.given_name,
            family_name=teacher.family_name,
            sex=teacher.sex,
        ),
        columns=frozenset(),  # only the required columns were in the file
    )
    plan = staff_import_plan(actor=None, records=[record])
    assert plan.problems == []
    assert plan.changes == []
    assert (plan.unchanged, plan.posts_changed) == (1, 0)
    # With the column present but blank, the value is cleared.
    cleared = replace(record, columns=ALL_COLUMNS, supervisor_staff_number="")
    plan = staff_import_plan(actor=None, records=[cleared])
    assert set(plan.changes[0].fields) == {"email", "active"}
    assert plan.posts_changed == 1  # the supervisor was cleared too


def test_district_manager_cannot_import_into_another_district(ministry: MiniMinistry) -> None:
    dist = ministry.users["dist"]  # manages G1D1
    outsider = ministry.people["g1d2_teacher"]
    plan = staff_import_plan(
        actor=dist,
        records=numbered(
            rec("OWN1"),
            rec("FOREIGN1", unit_code="G2D1S1"),
            rec(outsider.staff_number, unit_code="G1D1S1"),
        ),
    )
    assert [(p.row, p.column, p.code) for p in plan.problems] == [
        (3, "unit_code", StaffImportErrorCode.UNIT_OUTSIDE_SCOPE),
        (4, "staff_number", StaffImportErrorCode.PERSON_OUTSIDE_SCOPE),
    ]
    with pytest.raises(ValidationError):
        staff_import_apply(actor=dist, plan=plan)
    assert not Person.objects.filter(staff_number="OWN1").exists()


def test_district_manager_imports_into_own_district(ministry: MiniMinistry) -> None:
    dist = ministry.users["dist"]
    counts = import_all(numbered(rec("OWN1"), rec("OWN2", unit_code="G1D1")), actor=dist)
    assert counts["created"] == 2
    assert AuditEvent.objects.get(action=AuditAction.IMPORT).actor == dist


def test_a_plan_is_applied_only_by_the_user_it_was_made_for(ministry: MiniMinistry) -> None:
    plan = staff_import_plan(actor=ministry.users["gov1"], records=numbered(rec("X1")))
    with pytest.raises(ValidationError) as refused:
        staff_import_apply(actor=ministry.users["dist"], plan=plan)
    assert refused.value.code == StaffImportErrorCode.WRONG_ACTOR


def test_closed_units_take_no_new_staff(ministry: MiniMinistry) -> None:
    unit = ministry.units["G1D2S1"]
    unit.closed_on = dt.date(2021, 1, 1)
    unit.save()
    plan = staff_import_plan(actor=None, records=numbered(rec("CL1", unit_code="G1D2S1")))
    assert [p.code for p in plan.problems] == [StaffImportErrorCode.UNIT_CLOSED]


def _big_file(count: int) -> list[StaffRecord]:
    """Heads first in every tenth row, each supervising the nine rows after them."""
    records = []
    for i in range(count):
        head = f"B{i - i % 10:05d}"
        records.append(
            rec(
                f"B{i:05d}",
                row=i + 2,
                unit_code=("G1D1S1", "G1D2S1", "G2D1S1")[i % 3],
                role_code="head_teacher" if i % 10 == 0 else "teacher",
                supervisor_staff_number="" if i % 10 == 0 else head,
                email=f"b{i}@example.org",
                birth_year=1960 + i % 40,
            )
        )
    return records


def test_a_2000_row_import_runs_in_a_bounded_number_of_queries(
    ministry: MiniMinistry, django_assert_max_num_queries: Any
) -> None:
    make_role("teacher", "Teacher")
    records = _big_file(2000)
    # Queries grow with rows / batch size (SQLite takes 999 parameters per statement), never
    # with rows: one query per person would be well over 2,000.
    with django_assert_max_num_queries(80):
        plan = staff_import_plan(actor=ministry.users["admin"], records=records)
        staff_import_apply(actor=ministry.users["admin"], plan=plan)
    assert Person.objects.filter(staff_number__startswith="B").count() == 2000
    assert Person.objects.get(staff_number="B00011").supervisor.staff_number == "B00010"

    moved = [replace(r, unit_code="G1D1S1", email="") for r in records]
    with django_assert_max_num_queries(80):
        plan = staff_import_plan(actor=ministry.users["admin"], records=moved)
        staff_import_apply(actor=ministry.users["admin"], plan=plan)
    assert plan.posts_changed == 1333
    assert plan.updated == 2000

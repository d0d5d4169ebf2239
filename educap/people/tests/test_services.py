import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from educap.audit.models import AuditEvent
from educap.core.testing import MiniMinistry, make_role
from educap.people.models import Assignment
from educap.people.services import assignment_end, assignment_start, person_create, person_update


@pytest.mark.django_db
def test_person_create_registers_the_first_post(ministry: MiniMinistry) -> None:
    dist = ministry.users["dist"]
    person = person_create(
        actor=dist,
        unit=ministry.units["G1D1S1"],
        role=make_role("teacher"),
        supervisor=ministry.people["g1d1_head"],
        start_date=dt.date(2024, 9, 1),
        staff_number="NEW001",
        given_name="Mariam",
        family_name="Haddad",
        sex="F",
    )
    assert person.unit == ministry.units["G1D1S1"]
    assert person.supervisor == ministry.people["g1d1_head"]
    assert Assignment.objects.filter(person=person, end_date__isnull=True).count() == 1
    actions = set(AuditEvent.objects.filter(actor=dist).values_list("object_type", "action"))
    assert {("people.person", "create"), ("people.assignment", "create")} <= actions


@pytest.mark.django_db
def test_person_create_outside_scope_is_refused(ministry: MiniMinistry) -> None:
    with pytest.raises(PermissionDenied):
        person_create(
            actor=ministry.users["dist"],
            unit=ministry.units["G2D1S1"],
            role=make_role("teacher"),
            staff_number="NEW002",
            given_name="A",
            family_name="B",
            sex="M",
        )


@pytest.mark.django_db
def test_person_update_validates_and_audits_the_diff(ministry: MiniMinistry) -> None:
    person = ministry.people["g1d1_teacher"]
    with pytest.raises(ValidationError):
        person_update(actor=ministry.users["dist"], person=person, email="not an email")
    person_update(actor=ministry.users["dist"], person=person, phone="+964 770 000 0000")
    event = AuditEvent.objects.filter(object_type="people.person", action="update").latest("id")
    assert event.before == {"phone": ""}
    assert event.after == {"phone": "+964 770 000 0000"}


@pytest.mark.django_db
def test_new_primary_post_ends_the_old_one(ministry: MiniMinistry) -> None:
    person = ministry.people["g1d1_teacher"]
    new = assignment_start(
        actor=ministry.users["gov1"],
        person=person,
        unit=ministry.units["G1D2S1"],
        role=make_role("teacher"),
        start_date=dt.date(2025, 9, 1),
    )
    old = Assignment.objects.get(person=person, start_date=dt.date(2020, 1, 1))
    assert old.end_date == dt.date(2025, 8, 31)
    person.refresh_from_db()
    assert person.unit == ministry.units["G1D2S1"]
    assert person.supervisor is None
    assignment_end(actor=ministry.users["gov1"], assignment=new, end_date=dt.date(2025, 12, 31))
    person.refresh_from_db()
    assert person.unit is None


@pytest.mark.django_db
def test_self_supervision_is_refused(ministry: MiniMinistry) -> None:
    person = ministry.people["g1d1_head"]
    with pytest.raises(ValidationError) as err:
        assignment_start(
            actor=ministry.users["admin"],
            person=person,
            unit=ministry.units["G1D1S1"],
            role=make_role("head_teacher"),
            start_date=dt.date(2025, 1, 1),
            supervisor=person,
        )
    assert err.value.error_dict["supervisor"][0].code == "self_supervision"

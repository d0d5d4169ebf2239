"""Completed/passed statements on mapped activities become completions or CPD records."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache

from educap.core.testing import MiniMinistry
from educap.training.lrs.process import Outcome
from educap.training.models import (
    Certificate,
    Course,
    CpdKind,
    CpdRecord,
    CpdStatus,
    Enrolment,
    EnrolmentStatus,
    XapiStatement,
)
from educap.training.services.xapi import xapi_activity_map, xapi_client_create
from educap.training.tests.factories import make_course, make_enrolment, make_session
from educap.training.tests.test_xapi_statements import Lrs, statement

pytestmark = pytest.mark.django_db

ACTIVITY = "https://moodle.example.org/course/view.php?id=12"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def lrs(db: None) -> Lrs:
    client, secret = xapi_client_create(actor=None, name="Ministry Moodle")
    return Lrs(client.key, secret)


@pytest.fixture
def course(ministry: MiniMinistry) -> Course:
    course = make_course("C-ONLINE", duration_hours=Decimal(6), cpd_credits=Decimal(1))
    xapi_activity_map(actor=None, activity_id=ACTIVITY, course=course)
    return course


def by_mbox(email: str) -> dict[str, Any]:
    return {"objectType": "Agent", "mbox": f"mailto:{email}"}


def by_staff_number(number: str) -> dict[str, Any]:
    return {"account": {"homePage": "http://testserver/", "name": number}}


def completion(actor: dict[str, Any], verb: str = COMPLETED, **fields: Any) -> dict[str, Any]:
    return statement(
        actor=actor,
        verb={"id": verb},
        object={"id": ACTIVITY, "definition": {"name": {"en": "Online EMIS course"}}},
        timestamp="2026-03-04T09:00:00Z",
        **fields,
    )


def test_completion_completes_the_live_enrolment(
    ministry: MiniMinistry, course: Course, lrs: Lrs
) -> None:
    user = ministry.users["teacher"]
    user.email = "Teacher@School.example.org"
    user.save()
    enrolment = make_enrolment(make_session(course, ministry.units["G1D1"]), user.person)
    result = {"score": {"scaled": 0.85}, "success": True, "completion": True}
    sid = lrs.post(completion(by_mbox("teacher@school.example.org"), result=result)).json()[0]

    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.COMPLETED
    assert enrolment.score == 85
    certificate = Certificate.objects.get(enrolment=enrolment)
    assert str(certificate.completed_on) == "2026-03-04"
    cpd = CpdRecord.objects.get(enrolment=enrolment)
    assert cpd.status == CpdStatus.APPROVED
    assert cpd.hours == Decimal(6)
    stored = XapiStatement.objects.get(pk=sid)
    assert stored.outcome == Outcome.ENROLMENT
    assert stored.person == user.person


def test_passed_without_enrolment_becomes_an_approved_cpd_record(
    ministry: MiniMinistry, course: Course, lrs: Lrs
) -> None:
    person = ministry.people["g2d1_teacher"]
    sid = lrs.post(completion(by_staff_number(person.staff_number), PASSED)).json()[0]
    record = CpdRecord.objects.get(statement_id=sid)
    assert record.person == person
    assert record.kind == CpdKind.INTERNAL
    assert record.status == CpdStatus.APPROVED
    assert record.title == course.title
    assert record.hours == Decimal(6)
    assert record.credits == Decimal(1)
    assert str(record.completed_on) == "2026-03-04"
    assert record.enrolment is None
    assert XapiStatement.objects.get(pk=sid).outcome == Outcome.CPD
    assert not Enrolment.objects.filter(person=person).exists()


def test_staff_record_email_identifies_the_person(
    ministry: MiniMinistry, course: Course, lrs: Lrs
) -> None:
    person = ministry.people["g1d2_teacher"]
    person.email = "g1d2@example.org"
    person.save()
    sid = lrs.post(completion(by_mbox("G1D2@example.org"))).json()[0]
    assert CpdRecord.objects.get(statement_id=sid).person == person


def test_ambiguous_email_is_not_guessed(ministry: MiniMinistry, course: Course, lrs: Lrs) -> None:
    for key in ("g1d2_teacher", "g2d1_teacher"):
        ministry.people[key].email = "shared@example.org"
        ministry.people[key].save()
    sid = lrs.post(completion(by_mbox("shared@example.org"))).json()[0]
    stored = XapiStatement.objects.get(pk=sid)
    assert stored.person is None
    assert stored.outcome == Outcome.NONE
    assert not CpdRecord.objects.exists()


def test_unknown_actor_or_unmapped_activity_is_only_stored(
    ministry: MiniMinistry, course: Course, lrs: Lrs
) -> None:
    person = ministry.people["g2d1_teacher"]
    unknown = lrs.post(completion(by_mbox("nobody@example.org"))).json()[0]
    other_site = {"account": {"homePage": "https://elsewhere.org", "name": person.staff_number}}
    foreign = lrs.post(completion(other_site)).json()[0]
    unmapped = completion(by_staff_number(person.staff_number))
    unmapped["object"] = {"id": "https://moodle.example.org/course/view.php?id=99"}
    unmapped_id = lrs.post(unmapped).json()[0]
    for sid in (unknown, foreign, unmapped_id):
        stored = XapiStatement.objects.get(pk=sid)
        assert stored.outcome == Outcome.NONE
    assert XapiStatement.objects.count() == 3
    assert not CpdRecord.objects.exists()


def test_replays_and_repeats_are_idempotent(
    ministry: MiniMinistry, course: Course, lrs: Lrs
) -> None:
    person = ministry.people["g2d1_teacher"]
    first = completion(by_staff_number(person.staff_number), id=str(uuid.uuid4()))
    assert lrs.post(first).status_code == 200
    assert lrs.post(first).status_code == 200  # replay: same id, same content
    assert lrs.put(first, first["id"]).status_code == 204
    second = lrs.post(completion(by_staff_number(person.staff_number), PASSED)).json()[0]
    assert CpdRecord.objects.filter(person=person).count() == 1
    assert XapiStatement.objects.get(pk=second).outcome == Outcome.ALREADY


def test_completion_after_an_enrolment_completion_is_already_recorded(
    ministry: MiniMinistry, course: Course, lrs: Lrs
) -> None:
    person = ministry.people["g1d1_teacher"]
    make_enrolment(
        make_session(course, ministry.units["G1D1"]), person, status=EnrolmentStatus.COMPLETED
    )
    sid = lrs.post(completion(by_staff_number(person.staff_number))).json()[0]
    assert XapiStatement.objects.get(pk=sid).outcome == Outcome.ALREADY
    assert not CpdRecord.objects.exists()


def test_failed_attempts_are_marked_and_change_nothing(
    ministry: MiniMinistry, course: Course, lrs: Lrs
) -> None:
    person = ministry.people["g1d1_teacher"]
    enrolment = make_enrolment(make_session(course, ministry.units["G1D1"]), person)
    failed = lrs.post(completion(by_staff_number(person.staff_number), FAILED)).json()[0]
    unsuccessful = completion(by_staff_number(person.staff_number), result={"success": False})
    unsuccessful_id = lrs.post(unsuccessful).json()[0]
    assert XapiStatement.objects.get(pk=failed).outcome == Outcome.FAILED
    assert XapiStatement.objects.get(pk=unsuccessful_id).outcome == Outcome.FAILED
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.ENROLLED
    assert not CpdRecord.objects.exists()


def test_voiding_withdraws_the_cpd_record(ministry: MiniMinistry, course: Course, lrs: Lrs) -> None:
    person = ministry.people["g2d1_teacher"]
    sid = lrs.post(completion(by_staff_number(person.staff_number))).json()[0]
    voiding = statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": sid},
    )
    assert lrs.post(voiding).status_code == 200
    record = CpdRecord.objects.get(statement_id=sid)
    assert record.status == CpdStatus.REJECTED
    # The course can be earned again by a new, valid statement.
    again = lrs.post(completion(by_staff_number(person.staff_number))).json()[0]
    assert XapiStatement.objects.get(pk=again).outcome == Outcome.CPD


def test_a_refused_batch_leaves_no_completion(
    ministry: MiniMinistry, course: Course, lrs: Lrs
) -> None:
    person = ministry.people["g1d1_teacher"]
    enrolment = make_enrolment(make_session(course, ministry.units["G1D1"]), person)
    bad = statement()
    del bad["actor"]
    response = lrs.post([completion(by_staff_number(person.staff_number)), bad])
    assert response.status_code == 400
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.ENROLLED
    assert not Certificate.objects.exists()


def test_batch_queries_do_not_grow_with_statements(
    ministry: MiniMinistry, course: Course, lrs: Lrs, django_assert_max_num_queries: Any
) -> None:
    def batch(n: int) -> list[dict[str, Any]]:
        return [statement(object={"id": f"http://example.org/a/{i}"}) for i in range(n)]

    lrs.post(batch(1))
    with django_assert_max_num_queries(20) as few:
        assert lrs.post(batch(2)).status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert lrs.post(batch(40)).status_code == 200

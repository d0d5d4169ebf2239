"""Session services: creation rules, seats and waitlist, approval, nomination, bulk
enrolment from the training needs, conflicts, attendance and completion."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from educap.assessments.models import Rating, Source
from educap.assessments.services import EvidenceInput, evidence_record
from educap.assessments.tests.factories import make_published_framework
from educap.audit.models import AuditEvent
from educap.core.testing import MiniMinistry, make_person
from educap.frameworks.models import Framework, FrameworkItem
from educap.gaps import selectors as gap_selectors
from educap.gaps.engine import gaps_rebuild
from educap.gaps.selectors import GapFilters
from educap.people.models import Person
from educap.training.models import (
    Attendance,
    Certificate,
    CpdRecord,
    Enrolment,
    EnrolmentRoute,
    EnrolmentStatus,
    SessionStatus,
    TrainingSession,
)
from educap.training.services import sessions as services
from educap.training.services.sessions import ScheduleDay, SessionErrorCode
from educap.training.tests.factories import make_course, make_enrolment, make_session

pytestmark = pytest.mark.django_db


# --- helpers shared by the other session test modules ------------------------------------


def rate(person: Person, item: FrameworkItem, value: int, days_ago: int = 30) -> None:
    """Supervisor evidence: sets the person's current level (older than any completion)."""
    evidence_record(
        actor=None,
        evidence=[
            EvidenceInput(
                person_id=person.pk,
                item_id=item.pk,
                source=Source.SUPERVISOR,
                value=value,
                rated_at=timezone.now() - dt.timedelta(days=days_ago),
            )
        ],
    )


def item_of(framework: Framework, code: str) -> FrameworkItem:
    return framework.items.get(code=code)


@pytest.fixture
def framework(ministry: MiniMinistry) -> Framework:
    framework = make_published_framework()
    gaps_rebuild()  # resolves the role profiles into RoleRequirement
    return framework


def meeting(ministry: MiniMinistry, framework: Framework, unit: Any, item: FrameworkItem) -> int:
    """People of the unit subtree meeting the requirement, as the gap dashboard shows it."""
    matrix = gap_selectors.unit_matrix(
        user=ministry.users["admin"], unit=unit, filters=GapFilters(framework=framework)
    )
    return matrix.columns[item.pk].meeting


def error_code(exc: pytest.ExceptionInfo[Any]) -> str:
    error = exc.value
    if hasattr(error, "error_dict"):
        return str(next(iter(error.error_dict.values()))[0].code)
    return str(error.code)


# --- creating and changing sessions ---------------------------------------------------


def test_create_generates_code_schedule_and_planned_cost(ministry: MiniMinistry) -> None:
    course = make_course()
    session = services.session_create(
        actor=ministry.users["dist"],
        course=course,
        unit=ministry.units["G1D1"],
        starts_on=dt.date(2027, 3, 1),
        ends_on=dt.date(2027, 3, 3),
        capacity=10,
    )
    assert session.code == "C-DQ1-2703"
    assert session.status == SessionStatus.PLANNED
    assert [d.date.day for d in session.days.all()] == [1, 2, 3]
    assert session.planned_cost == Decimal(500 + 40 * 10)
    second = services.session_create(
        actor=None, course=course, unit=ministry.units["G1D1"],
        starts_on=dt.date(2027, 3, 8), ends_on=dt.date(2027, 3, 8), capacity=5,
    )  # fmt: skip
    assert second.code == "C-DQ1-2703-2"
    assert AuditEvent.objects.filter(object_type="training.trainingsession").count() == 2


@pytest.mark.parametrize(
    ("user", "unit", "fields", "code"),
    [
        ("dist", "G2D1", {}, SessionErrorCode.UNIT_OUT_OF_SCOPE),
        ("head", "G1D1", {}, SessionErrorCode.UNIT_OUT_OF_SCOPE),
        ("dist", "G1D1", {"ends_on": dt.date(2027, 2, 1)}, SessionErrorCode.DATES_REVERSED),
        ("dist", "G1D1", {"ends_on": dt.date(2028, 6, 1)}, SessionErrorCode.TOO_LONG),
        ("dist", "G1D1", {"capacity": 0}, "min_value"),
    ],
)
def test_create_validation(ministry: MiniMinistry, user, unit, fields, code) -> None:
    args = {
        "course": make_course(),
        "unit": ministry.units[unit],
        "starts_on": dt.date(2027, 3, 1),
        "ends_on": dt.date(2027, 3, 2),
        "capacity": 10,
        **fields,
    }
    with pytest.raises(ValidationError) as exc:
        services.session_create(actor=ministry.users[user], **args)
    assert error_code(exc) == code
    assert not TrainingSession.objects.exists()


def test_inactive_course_cannot_get_a_session(ministry: MiniMinistry) -> None:
    with pytest.raises(ValidationError) as exc:
        services.session_create(
            actor=None, course=make_course(is_active=False), unit=ministry.units["G1"],
            starts_on=dt.date(2027, 3, 1), ends_on=dt.date(2027, 3, 1), capacity=3,
        )  # fmt: skip
    assert error_code(exc) == SessionErrorCode.COURSE_INACTIVE


def test_moving_dates_keeps_edited_days_and_adds_new_ones(ministry: MiniMinistry) -> None:
    session = services.session_create(
        actor=None, course=make_course(), unit=ministry.units["G1"],
        starts_on=dt.date(2027, 3, 1), ends_on=dt.date(2027, 3, 5), capacity=3,
    )  # fmt: skip
    # The organiser drops the Wednesday and names Monday's topic.
    services.session_schedule_set(
        actor=ministry.users["gov1"],
        session=session,
        days=[
            ScheduleDay(dt.date(2027, 3, 1), dt.time(9), dt.time(15), "Data quality"),
            ScheduleDay(dt.date(2027, 3, 2)),
            ScheduleDay(dt.date(2027, 3, 4)),
            ScheduleDay(dt.date(2027, 3, 5)),
        ],
    )
    services.session_update(
        actor=ministry.users["gov1"],
        session=session,
        starts_on=dt.date(2027, 3, 2),
        ends_on=dt.date(2027, 3, 7),
    )
    days = {d.date.day: d.topic for d in session.days.all()}
    assert days == {2: "", 4: "", 5: "", 6: "", 7: ""}


def test_schedule_days_must_fall_inside_the_dates(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], status=SessionStatus.PLANNED)
    with pytest.raises(ValidationError) as exc:
        services.session_schedule_set(
            actor=None, session=session, days=[ScheduleDay(dt.date(2026, 4, 1))]
        )
    assert error_code(exc) == SessionErrorCode.DAY_OUTSIDE_DATES


def test_capacity_cannot_drop_below_seats_taken_and_raising_it_promotes(
    ministry: MiniMinistry,
) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], capacity=1)
    first = make_enrolment(session, ministry.people["g1d1_head"])
    waiting = make_enrolment(
        session, ministry.people["g1d1_teacher"], status=EnrolmentStatus.WAITLISTED
    )
    with pytest.raises(ValidationError) as exc:
        services.session_update(actor=ministry.users["dist"], session=session, capacity=0)
    assert error_code(exc) in (SessionErrorCode.CAPACITY_BELOW_SEATED, "min_value")
    services.session_update(actor=ministry.users["dist"], session=session, capacity=2)
    waiting.refresh_from_db()
    first.refresh_from_db()
    assert (first.status, waiting.status) == (EnrolmentStatus.ENROLLED, EnrolmentStatus.ENROLLED)


def test_course_cannot_change_once_people_are_enrolled(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"])
    make_enrolment(session, ministry.people["g1d1_head"])
    with pytest.raises(ValidationError) as exc:
        services.session_update(actor=None, session=session, course=make_course("C-OTHER"))
    assert error_code(exc) == SessionErrorCode.COURSE_FROZEN


def test_other_units_manager_cannot_edit(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G2D1"])
    with pytest.raises(PermissionDenied):
        services.session_update(actor=ministry.users["dist"], session=session, venue="Elsewhere")


# --- status ----------------------------------------------------------------------------


def test_status_moves_forward_only(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], status=SessionStatus.PLANNED)
    dist = ministry.users["dist"]
    with pytest.raises(ValidationError) as exc:
        services.session_transition(actor=dist, session=session, status=SessionStatus.RUNNING)
    assert error_code(exc) == SessionErrorCode.BAD_TRANSITION
    services.session_transition(actor=dist, session=session, status=SessionStatus.OPEN)
    services.session_transition(actor=dist, session=session, status=SessionStatus.RUNNING)
    with pytest.raises(ValidationError):
        services.session_transition(actor=dist, session=session, status=SessionStatus.COMPLETED)
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING


def test_cancelling_withdraws_and_notifies(
    ministry: MiniMinistry, django_capture_on_commit_callbacks: Any
) -> None:
    session = make_session(make_course(), ministry.units["G1D1"])
    head = ministry.people["g1d1_head"]
    head.email = "head@moe.example"
    head.save()
    enrolled = make_enrolment(session, head)
    with django_capture_on_commit_callbacks(execute=True):
        services.session_transition(
            actor=ministry.users["dist"], session=session, status=SessionStatus.CANCELLED
        )
    enrolled.refresh_from_db()
    assert enrolled.status == EnrolmentStatus.WITHDRAWN
    assert len(mail.outbox) == 1
    assert "Cancelled" in mail.outbox[0].subject
    with pytest.raises(ValidationError):
        services.session_transition(actor=None, session=session, status=SessionStatus.OPEN)


def test_completed_session_cannot_be_cancelled(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], status=SessionStatus.COMPLETED)
    with pytest.raises(ValidationError) as exc:
        services.session_transition(actor=None, session=session, status=SessionStatus.CANCELLED)
    assert error_code(exc) == SessionErrorCode.BAD_TRANSITION


# --- seats, waitlist, approval ---------------------------------------------------------


def test_capacity_then_waitlist_then_promotion_in_order(
    ministry: MiniMinistry, django_capture_on_commit_callbacks: Any
) -> None:
    session = make_session(make_course(), ministry.units["G1"], capacity=2)
    people = [make_person(ministry.units["G1D1S1"]) for _ in range(4)]
    for n, person in enumerate(people):
        person.email = f"p{n}@moe.example"
        person.save()
    result = services.enrolment_nominate(
        actor=ministry.users["gov1"], session=session, people=people
    )
    assert len(result.enrolled) == 2
    assert len(result.waitlisted) == 2
    leaving = result.enrolled[0]
    first_waiting, second_waiting = result.waitlisted
    with django_capture_on_commit_callbacks(execute=True):
        services.enrolment_withdraw(actor=ministry.users["gov1"], enrolment=leaving)
    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    assert first_waiting.status == EnrolmentStatus.ENROLLED
    assert second_waiting.status == EnrolmentStatus.WAITLISTED
    assert [m.to for m in mail.outbox] == [[first_waiting.person.email]]
    # Withdrawing from the waitlist frees no seat.
    services.enrolment_withdraw(actor=None, enrolment=second_waiting)
    assert Enrolment.objects.filter(session=session, status=EnrolmentStatus.ENROLLED).count() == 2


def test_self_enrolment_needs_the_supervisors_approval(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], capacity=1)
    teacher = ministry.people["g1d1_teacher"]
    request = services.enrolment_request(
        actor=ministry.users["teacher"], session=session, person=teacher
    )
    assert request.status == EnrolmentStatus.REQUESTED
    assert request.route == EnrolmentRoute.SELF
    # The person themself, or someone over nobody, cannot decide.
    for username in ("teacher", "trainer", "partner"):
        with pytest.raises(PermissionDenied):
            services.enrolment_decide(
                actor=ministry.users[username], enrolment=request, approve=True
            )
    decided = services.enrolment_decide(
        actor=ministry.users["head"], enrolment=request, approve=True
    )
    assert decided.status == EnrolmentStatus.ENROLLED
    assert decided.decided_by == ministry.users["head"]
    with pytest.raises(ValidationError) as exc:
        services.enrolment_decide(actor=ministry.users["head"], enrolment=request, approve=False)
    assert error_code(exc) == SessionErrorCode.NOT_REQUESTED


def test_unit_manager_over_the_person_may_decide_and_reject(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"])
    request = services.enrolment_request(
        actor=ministry.users["teacher"], session=session, person=ministry.people["g1d1_teacher"]
    )
    with pytest.raises(PermissionDenied):
        services.enrolment_decide(actor=ministry.users["trainer"], enrolment=request, approve=False)
    rejected = services.enrolment_decide(
        actor=ministry.users["gov1"], enrolment=request, approve=False
    )
    assert rejected.status == EnrolmentStatus.REJECTED
    # After a rejection the person may ask again: the same row is reused.
    again = services.enrolment_request(
        actor=ministry.users["teacher"], session=session, person=ministry.people["g1d1_teacher"]
    )
    assert again.pk == request.pk
    assert again.status == EnrolmentStatus.REQUESTED


def test_approval_when_full_goes_to_the_waitlist(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], capacity=1)
    make_enrolment(session, ministry.people["g1d1_head"])
    request = services.enrolment_request(
        actor=ministry.users["teacher"], session=session, person=ministry.people["g1d1_teacher"]
    )
    decided = services.enrolment_decide(
        actor=ministry.users["head"], enrolment=request, approve=True
    )
    assert decided.status == EnrolmentStatus.WAITLISTED


def test_without_supervisor_or_approval_self_enrolment_takes_a_seat(
    ministry: MiniMinistry,
) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], requires_approval=False)
    enrolment = services.enrolment_request(
        actor=ministry.users["teacher"], session=session, person=ministry.people["g1d1_teacher"]
    )
    assert enrolment.status == EnrolmentStatus.ENROLLED


@pytest.mark.parametrize(
    ("status", "unit", "code"),
    [
        (SessionStatus.PLANNED, "G1D1", SessionErrorCode.CLOSED_FOR_ENROLMENT),
        (SessionStatus.RUNNING, "G1D1", SessionErrorCode.CLOSED_FOR_ENROLMENT),
        (SessionStatus.OPEN, "G2D1", SessionErrorCode.NOT_FOR_PERSON),
    ],
)
def test_self_enrolment_refusals(ministry: MiniMinistry, status, unit, code) -> None:
    session = make_session(make_course(), ministry.units[unit], status=status)
    with pytest.raises(ValidationError) as exc:
        services.enrolment_request(
            actor=ministry.users["teacher"],
            session=session,
            person=ministry.people["g1d1_teacher"],
        )
    assert error_code(exc) == code


def test_self_enrolment_for_someone_else_is_refused(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"])
    with pytest.raises(PermissionDenied):
        services.enrolment_request(
            actor=ministry.users["teacher"], session=session, person=ministry.people["g1d1_head"]
        )


def test_course_target_roles_limit_self_enrolment(ministry: MiniMinistry) -> None:
    course = make_course()
    course.target_roles.set([ministry.people["g1d1_head"].role])
    session = make_session(course, ministry.units["G1D1"])
    with pytest.raises(ValidationError) as exc:
        services.enrolment_request(
            actor=ministry.users["teacher"], session=session, person=ministry.people["g1d1_teacher"]
        )
    assert error_code(exc) == SessionErrorCode.NOT_FOR_PERSON


def test_one_live_enrolment_per_course(ministry: MiniMinistry) -> None:
    course = make_course()
    first = make_session(course, ministry.units["G1D1"], code="S-1")
    second = make_session(course, ministry.units["G1D1"], code="S-2")
    teacher = ministry.people["g1d1_teacher"]
    make_enrolment(first, teacher)
    with pytest.raises(ValidationError) as exc:
        services.enrolment_request(actor=ministry.users["teacher"], session=second, person=teacher)
    assert error_code(exc) == SessionErrorCode.ALREADY_ENROLLED
    result = services.enrolment_nominate(actor=None, session=second, people=[teacher])
    assert result.skipped == [teacher.pk]
    assert not result.added


# --- nomination ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "person", "allowed"),
    [
        ("head", "g1d1_teacher", True),  # direct report
        ("head", "g1d2_teacher", False),  # someone else's report
        ("dist", "g1d1_teacher", True),  # in the manager's subtree
        ("dist", "g1d2_teacher", False),  # outside it
        ("gov1", "g1d2_teacher", True),
        ("teacher", "g1d1_teacher", False),  # staff nominate nobody, not even themselves
        ("trainer", "g1d1_teacher", False),
    ],
)
def test_nomination_permissions(ministry: MiniMinistry, username, person, allowed) -> None:
    session = make_session(make_course(), ministry.units["G1"])
    nominate = {
        "actor": ministry.users[username],
        "session": session,
        "people": [ministry.people[person]],
    }
    if allowed:
        result = services.enrolment_nominate(**nominate)
        assert result.enrolled[0].route == EnrolmentRoute.NOMINATED
    else:
        with pytest.raises(PermissionDenied):
            services.enrolment_nominate(**nominate)
        assert not Enrolment.objects.exists()


def test_supervisor_cannot_nominate_into_a_planned_session_of_another_unit(
    ministry: MiniMinistry,
) -> None:
    session = make_session(make_course(), ministry.units["G1"], status=SessionStatus.PLANNED)
    with pytest.raises(ValidationError) as exc:
        services.enrolment_nominate(
            actor=ministry.users["head"], session=session, people=[ministry.people["g1d1_teacher"]]
        )
    assert error_code(exc) == SessionErrorCode.CLOSED_FOR_ENROLMENT
    # The organiser can: planned sessions are filled before they open.
    services.enrolment_nominate(
        actor=ministry.users["gov1"], session=session, people=[ministry.people["g1d1_teacher"]]
    )


# --- conflicts -------------------------------------------------------------------------


def test_conflicts_are_overlapping_live_enrolments(ministry: MiniMinistry) -> None:
    teacher = ministry.people["g1d1_teacher"]
    here = make_session(make_course("C-A"), ministry.units["G1"], code="S-A", days=3)
    overlapping = make_session(
        make_course("C-B"), ministry.units["G1"], code="S-B", starts_on=dt.date(2026, 3, 4)
    )
    after = make_session(
        make_course("C-C"), ministry.units["G1"], code="S-C", starts_on=dt.date(2026, 3, 5)
    )
    withdrawn = make_session(make_course("C-D"), ministry.units["G1"], code="S-D")
    cancelled = make_session(
        make_course("C-E"), ministry.units["G1"], code="S-E", status=SessionStatus.CANCELLED
    )
    make_enrolment(overlapping, teacher, status=EnrolmentStatus.WAITLISTED)
    make_enrolment(after, teacher)
    make_enrolment(withdrawn, teacher, status=EnrolmentStatus.WITHDRAWN)
    make_enrolment(cancelled, teacher)
    found = services.enrolment_conflicts(person=teacher, session=here)
    assert [e.session.code for e in found] == ["S-B"]
    # Nominating warns (and still enrols).
    result = services.enrolment_nominate(actor=None, session=here, people=[teacher])
    assert result.enrolled
    assert [e.session.code for e in result.conflicts[teacher.pk]] == ["S-B"]


# --- bulk from the training needs ------------------------------------------------------


@pytest.fixture
def needs(ministry: MiniMinistry, framework: Framework) -> dict[str, Any]:
    """In G1: the district officer is below D1.2 (1 < 3); the governorate officer meets it;
    a new officer in G1D1 is unknown; a woman officer in G1D1S1 is below; an inactive one
    is below too. Heads and teachers are not required to have D1.2."""
    d12 = item_of(framework, "D1.2")
    officer_role = ministry.people["g1d1_officer"].role
    woman = make_person(ministry.units["G1D1S1"], officer_role, sex="F", family_name="Aaa")
    gone = make_person(ministry.units["G1D1S1"], officer_role, is_active=False)
    make_person(ministry.units["G1D1"], officer_role)  # never assessed
    rate(ministry.people["g1d1_officer"], d12, 1)
    rate(ministry.people["g1_officer"], d12, 3)
    rate(woman, d12, 2)
    rate(gone, d12, 0)
    rate(ministry.people["g1d1_head"], d12, 0)  # below 3, but heads do not need D1.2
    return {"item": d12, "woman": woman}


def test_bulk_enrols_only_people_below_requirement(
    ministry: MiniMinistry, needs: dict[str, Any]
) -> None:
    session = make_session(make_course(), ministry.units["G1"], capacity=1)
    result = services.enrolment_bulk_from_needs(
        actor=ministry.users["gov1"], session=session, unit=ministry.units["G1"], item=needs["item"]
    )
    # Biggest gap first gets the seat: the district officer (gap 2), then the woman (gap 1).
    assert [e.person_id for e in result.enrolled] == [ministry.people["g1d1_officer"].pk]
    assert [e.person_id for e in result.waitlisted] == [needs["woman"].pk]
    assert {e.route for e in result.added} == {EnrolmentRoute.NEEDS}
    # Again: everyone is already enrolled in a session of this course.
    other = make_session(session.course, ministry.units["G1"], code="S-2")
    again = services.enrolment_bulk_from_needs(
        actor=None, session=other, unit=ministry.units["G1"], item=needs["item"]
    )
    assert not again.added


def test_bulk_filters_by_role_and_sex_and_subtree(
    ministry: MiniMinistry, needs: dict[str, Any]
) -> None:
    session = make_session(make_course(), ministry.units["G1"])
    officer_role = ministry.people["g1d1_officer"].role
    women = services.enrolment_bulk_from_needs(
        actor=None, session=session, unit=ministry.units["G1"], item=needs["item"], sex="F"
    )
    assert [e.person_id for e in women.added] == [needs["woman"].pk]
    school = services.people_below_requirement(
        unit=ministry.units["G1D1S1"], item=needs["item"], role=officer_role
    )
    assert list(school.values_list("pk", flat=True)) == [needs["woman"].pk]
    heads = services.people_below_requirement(
        unit=ministry.units["G1"], item=needs["item"], role=ministry.people["g1d1_head"].role
    )
    assert not heads.exists()


def test_bulk_outside_the_managers_subtree_is_refused(
    ministry: MiniMinistry, needs: dict[str, Any]
) -> None:
    session = make_session(make_course(), ministry.units["G1D1"])
    with pytest.raises(PermissionDenied):
        services.enrolment_bulk_from_needs(
            actor=ministry.users["dist"],
            session=session,
            unit=ministry.units["G1"],
            item=needs["item"],
        )


def test_bulk_query_count_does_not_grow_with_people(
    ministry: MiniMinistry, needs: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    officer_role = ministry.people["g1d1_officer"].role
    for _ in range(25):
        rate(make_person(ministry.units["G1D2S1"], officer_role), needs["item"], 0)
    session = make_session(make_course(), ministry.units["G1"], capacity=10)
    with django_assert_max_num_queries(12):
        result = services.enrolment_bulk_from_needs(
            actor=ministry.users["gov1"],
            session=session,
            unit=ministry.units["G1"],
            item=needs["item"],
        )
    assert len(result.enrolled) == 10
    assert len(result.waitlisted) == 17


# --- attendance ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "allowed"),
    [("dist", True), ("gov1", True), ("facilitator", True), ("head", False), ("teacher", False)],
)
def test_attendance_permissions(ministry: MiniMinistry, username, allowed) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], status=SessionStatus.RUNNING)
    if username == "facilitator":
        session.facilitators.add(ministry.people["g1d2_teacher"])
        from educap.core.testing import make_user

        user = make_user("fac", ministry.people["g1d2_teacher"])
    else:
        user = ministry.users[username]
    enrolment = make_enrolment(session, ministry.people["g1d1_teacher"])
    day = session.days.first()
    if allowed:
        assert services.attendance_record(
            actor=user, session=session, day=day, marks={enrolment.pk: True}
        )
        # A second tap changes the mark, it does not add one.
        services.attendance_record(
            actor=user, session=session, day=day, marks={enrolment.pk: False}
        )
        assert list(Attendance.objects.values_list("present", flat=True)) == [False]
    else:
        with pytest.raises(PermissionDenied):
            services.attendance_record(
                actor=user, session=session, day=day, marks={enrolment.pk: True}
            )


def test_attendance_only_while_running_and_for_seated_people(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"])
    seated = make_enrolment(session, ministry.people["g1d1_head"])
    waiting = make_enrolment(
        session, ministry.people["g1d1_teacher"], status=EnrolmentStatus.WAITLISTED
    )
    day = session.days.first()
    with pytest.raises(ValidationError) as exc:
        services.attendance_record(actor=None, session=session, day=day, marks={seated.pk: True})
    assert error_code(exc) == SessionErrorCode.NOT_RUNNING
    session.status = SessionStatus.RUNNING
    session.save()
    with pytest.raises(ValidationError) as exc:
        services.attendance_record(actor=None, session=session, day=day, marks={waiting.pk: True})
    assert error_code(exc) == SessionErrorCode.NOT_SEATED
    other = make_session(make_course("C-2"), ministry.units["G1D1"], code="S-2")
    with pytest.raises(ValidationError) as exc:
        services.attendance_record(
            actor=None, session=session, day=other.days.first(), marks={seated.pk: True}
        )
    assert error_code(exc) == SessionErrorCode.DAY_UNKNOWN


def test_attendance_day_with_marks_stays_in_the_schedule(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], status=SessionStatus.RUNNING)
    enrolment = make_enrolment(session, ministry.people["g1d1_head"])
    first, second = session.days.all()
    services.attendance_record(actor=None, session=session, day=first, marks={enrolment.pk: True})
    with pytest.raises(ValidationError) as exc:
        services.session_schedule_set(actor=None, session=session, days=[ScheduleDay(second.date)])
    assert error_code(exc) == SessionErrorCode.DAY_HAS_ATTENDANCE


# --- completion ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("present", "days", "expected"), [(0, 4, 0), (1, 3, 33), (2, 3, 67), (1, 8, 13), (5, 5, 100)]
)
def test_attendance_percent_rounds_half_up(present, days, expected) -> None:
    assert services.attendance_percent(present, days) == expected


def test_completion_rule_attendance_and_pass_mark(
    ministry: MiniMinistry, framework: Framework, django_capture_on_commit_callbacks: Any
) -> None:
    """Four officers in a 4-day course (min 75 %, pass mark 60):
    full attendance and 80 → passes; 3 days and 60 → passes; 2 days → fails on attendance;
    4 days but 59 → fails on the test. Passers get a certificate, CPD and training evidence,
    and the district's gap rollup counts them as meeting the requirement."""
    course = make_course(
        framework=framework, records_evidence=True, min_attendance_percent=75, pass_mark=60
    )
    d12 = item_of(framework, "D1.2")
    district = ministry.units["G1D1"]
    role = ministry.people["g1d1_officer"].role
    people = [make_person(district, role, family_name=f"P{n}") for n in range(4)]
    for person in people:
        rate(person, d12, 1, days_ago=400)  # before the session (the latest evidence wins)
    gaps_rebuild()
    meeting_before = meeting(ministry, framework, district, d12)
    session = make_session(course, district, days=4, status=SessionStatus.RUNNING)
    enrolments = [make_enrolment(session, p) for p in people]
    waiting = make_enrolment(
        session, ministry.people["g1d1_officer"], status=EnrolmentStatus.WAITLISTED
    )
    days = list(session.days.all())
    for enrolment, attended in zip(enrolments, (4, 3, 2, 4), strict=True):
        for n, day in enumerate(days):
            services.attendance_record(
                actor=None, session=session, day=day, marks={enrolment.pk: n < attended}
            )
    scores = dict(zip([e.pk for e in enrolments], (80, 60, 95, 59), strict=True))

    with django_capture_on_commit_callbacks(execute=True):
        result = services.session_complete(
            actor=ministry.users["dist"],
            session=session,
            scores=scores,
            actual_cost=Decimal("1234.50"),
        )

    assert [e.pk for e in result.completed] == [enrolments[0].pk, enrolments[1].pk]
    assert len(result.certificates) == 2
    assert result.withdrawn == 1
    statuses = {
        e.pk: (e.status, e.attendance_percent, e.score, e.passed)
        for e in Enrolment.objects.filter(session=session)
    }
    assert statuses[enrolments[0].pk] == (EnrolmentStatus.COMPLETED, 100, 80, True)
    assert statuses[enrolments[1].pk] == (EnrolmentStatus.COMPLETED, 75, 60, True)
    assert statuses[enrolments[2].pk] == (EnrolmentStatus.NOT_COMPLETED, 50, 95, False)
    assert statuses[enrolments[3].pk] == (EnrolmentStatus.NOT_COMPLETED, 100, 59, False)
    assert statuses[waiting.pk][0] == EnrolmentStatus.WITHDRAWN
    session.refresh_from_db()
    assert session.status == SessionStatus.COMPLETED
    assert session.actual_cost == Decimal("1234.50")
    assert set(Certificate.objects.values_list("person_id", flat=True)) == {
        people[0].pk,
        people[1].pk,
    }
    assert CpdRecord.objects.filter(person__in=people[:2], hours=course.duration_hours).count() == 2
    assert Rating.objects.filter(source=Source.TRAINING, item=d12).count() == 2
    meeting_after = meeting(ministry, framework, district, d12)
    assert meeting_after == meeting_before + 2


def test_completion_without_a_test_needs_only_attendance(ministry: MiniMinistry) -> None:
    course = make_course(min_attendance_percent=50)
    session = make_session(course, ministry.units["G1D1"], days=2, status=SessionStatus.RUNNING)
    enrolment = make_enrolment(session, ministry.people["g1d1_head"])
    services.attendance_record(
        actor=None, session=session, day=session.days.first(), marks={enrolment.pk: True}
    )
    result = services.session_complete(actor=None, session=session)
    assert [e.pk for e in result.completed] == [enrolment.pk]


def test_only_runners_complete_a_running_session(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"])
    with pytest.raises(ValidationError) as exc:
        services.session_complete(actor=None, session=session)
    assert error_code(exc) == SessionErrorCode.NOT_RUNNING
    session.status = SessionStatus.RUNNING
    session.save()
    with pytest.raises(PermissionDenied):
        services.session_complete(actor=ministry.users["teacher"], session=session)
    with pytest.raises(ValidationError) as exc:
        services.session_complete(actor=None, session=session, scores={1: 101})
    assert error_code(exc) == SessionErrorCode.SCORE_INVALID

"""Writes for training sessions: the session and its schedule, its status, enrolment (self
with approval, nomination, bulk from the training-needs analysis), the waitlist, attendance
and completion.

Seats are counted under a lock on the session row (a plain row: PostgreSQL cannot lock the
nullable side of an outer join), so two requests for the last seat cannot both get it.
Completing a session hands every successful participant to `completion.enrolment_complete`,
the one place that issues certificates, CPD records and competency evidence.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import get_connection, send_mass_mail
from django.db import transaction
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from educap.accounts.scope import scope_for
from educap.assessments.models import CurrentLevel
from educap.audit.models import AuditAction
from educap.audit.services import audit_record, snapshot
from educap.core.errors import field_error
from educap.gaps.models import RoleRequirement
from educap.people.models import Person
from educap.training.models import (
    Attendance,
    Certificate,
    Course,
    Enrolment,
    EnrolmentRoute,
    EnrolmentStatus,
    SessionDay,
    SessionStatus,
    TrainingSession,
)
from educap.training.models.sessions import SEATED
from educap.training.permissions import can_manage_sessions_of, can_run_session
from educap.training.services.completion import enrolment_complete

if TYPE_CHECKING:
    from educap.accounts.models import User
    from educap.frameworks.models import FrameworkItem
    from educap.org.models import OrgUnit
    from educap.people.models import Role

logger = logging.getLogger(__name__)


class SessionErrorCode(StrEnum):
    NOT_ALLOWED = "session_not_allowed"
    UNIT_OUT_OF_SCOPE = "session_unit_out_of_scope"
    COURSE_INACTIVE = "session_course_inactive"
    COURSE_FROZEN = "session_course_frozen"
    DATES_REVERSED = "session_dates_reversed"
    TOO_LONG = "session_too_long"
    CAPACITY_BELOW_SEATED = "session_capacity_below_seated"
    FROZEN = "session_frozen"
    BAD_TRANSITION = "session_bad_transition"
    CLOSED_FOR_ENROLMENT = "session_closed_for_enrolment"
    NOT_FOR_PERSON = "session_not_for_person"
    PERSON_INACTIVE = "enrolment_person_inactive"
    ALREADY_ENROLLED = "enrolment_exists"
    NOT_REQUESTED = "enrolment_not_requested"
    NOT_WITHDRAWABLE = "enrolment_not_withdrawable"
    NOT_RUNNING = "session_not_running"
    DAY_UNKNOWN = "session_day_unknown"
    DAY_OUTSIDE_DATES = "session_day_outside_dates"
    DAY_DUPLICATE = "session_day_duplicate"
    DAY_HAS_ATTENDANCE = "session_day_has_attendance"
    DAY_TIMES_REVERSED = "session_day_times_reversed"
    NO_SCHEDULE = "session_no_schedule"
    NOT_SEATED = "enrolment_not_seated"
    SCORE_INVALID = "enrolment_score_invalid"


# Enrolments that still want or hold a place in a session that has not happened yet.
LIVE = (EnrolmentStatus.REQUESTED, EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED)
# Statuses after which a session changes no more.
OVER = (SessionStatus.COMPLETED, SessionStatus.CANCELLED)
# When organisers may still add people (self-enrolment needs OPEN).
ENROLLING = (SessionStatus.PLANNED, SessionStatus.OPEN, SessionStatus.RUNNING)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    SessionStatus.PLANNED: (SessionStatus.OPEN, SessionStatus.CANCELLED),
    SessionStatus.OPEN: (SessionStatus.RUNNING, SessionStatus.CANCELLED),
    SessionStatus.RUNNING: (SessionStatus.CANCELLED,),
}
# A schedule of more days than this is a typing mistake, not a course.
MAX_DAYS = 366
SESSION_FIELDS = (
    "course",
    "unit",
    "starts_on",
    "ends_on",
    "venue",
    "online_url",
    "capacity",
    "planned_cost",
    "actual_cost",
    "requires_approval",
)
# What a completed session may still change (the bills come in later).
COMPLETED_FIELDS = frozenset({"actual_cost"})


@dataclass(frozen=True)
class ScheduleDay:
    date: dt.date
    starts_at: dt.time | None = None
    ends_at: dt.time | None = None
    topic: str = ""


@dataclass
class EnrolmentResult:
    """What an enrolment call did, person by person."""

    enrolled: list[Enrolment] = field(default_factory=list)
    waitlisted: list[Enrolment] = field(default_factory=list)
    requested: list[Enrolment] = field(default_factory=list)
    # People already in this session, or in another live session of the same course.
    skipped: list[int] = field(default_factory=list)
    # person id -> their other live enrolments whose dates overlap (a warning, not a refusal).
    conflicts: dict[int, list[Enrolment]] = field(default_factory=dict)

    @property
    def added(self) -> list[Enrolment]:
        return self.enrolled + self.waitlisted + self.requested


@dataclass
class CompletionResult:
    completed: list[Enrolment] = field(default_factory=list)
    not_completed: list[Enrolment] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    # Waitlisted or awaiting approval when the session ended: withdrawn.
    withdrawn: int = 0


# --- permissions -----------------------------------------------------------------------


def _deny() -> PermissionDenied:
    return PermissionDenied(SessionErrorCode.NOT_ALLOWED)


def session_manage_allowed(*, actor: User | None, session: TrainingSession) -> bool:
    return actor is None or can_manage_sessions_of(actor, session.unit)


def session_run_allowed(*, actor: User | None, session: TrainingSession) -> bool:
    return actor is None or can_run_session(actor, session)


def enrolment_decide_allowed(*, actor: User | None, person: Person) -> bool:
    """The person's supervisor, or a manager of a unit holding the person."""
    if actor is None:
        return True
    scope = scope_for(actor)
    if scope.person_id is not None and person.supervisor_id == scope.person_id:
        return True
    return scope.can_manage_person(person)


def enrolment_withdraw_allowed(*, actor: User | None, enrolment: Enrolment) -> bool:
    if actor is None:
        return True
    person = enrolment.person
    if scope_for(actor).person_id == person.pk:
        return True
    return enrolment_decide_allowed(actor=actor, person=person) or session_manage_allowed(
        actor=actor, session=enrolment.session
    )


def session_open_to(*, session: TrainingSession, person: Person) -> bool:
    """Whether a person may ask for a place: the session is run by their unit or one above
    it, and the course targets their role (or every role)."""
    if person.unit is None or not person.unit.path.startswith(session.unit.path):
        return False
    roles = set(session.course.target_roles.values_list("pk", flat=True))
    return not roles or person.role_id in roles


def passes(*, course: Course, attendance_percent: int, score: int | None) -> bool:
    """The course's completion rule: enough attendance and, with a final test, the pass mark."""
    if attendance_percent < course.min_attendance_percent:
        return False
    return course.pass_mark is None or (score is not None and score >= course.pass_mark)


def attendance_percent(present: int, days: int) -> int:
    """Present days over schedule days, rounded half up to a whole percent."""
    if days <= 0:
        return 0
    return min(100, (200 * present + days) // (2 * days))


# --- sessions --------------------------------------------------------------------------


def _check_session(session: TrainingSession, actor: User | None) -> None:
    """Validation shared by create and update (the model checks the rest)."""
    if actor is not None and not can_manage_sessions_of(actor, session.unit):
        raise field_error(
            "unit",
            _("You cannot organise sessions for this unit."),
            SessionErrorCode.UNIT_OUT_OF_SCOPE,
        )
    if session.starts_on and session.ends_on:
        if session.ends_on < session.starts_on:
            raise field_error(
                "ends_on",
                _("The session cannot end before it starts."),
                SessionErrorCode.DATES_REVERSED,
            )
        if (session.ends_on - session.starts_on).days >= MAX_DAYS:
            raise field_error(
                "ends_on",
                _("A session lasts at most %(days)s days.") % {"days": MAX_DAYS},
                SessionErrorCode.TOO_LONG,
            )


def _check_course(course: Course) -> None:
    if not course.is_active:
        raise field_error(
            "course",
            _("Course %(code)s is no longer offered.") % {"code": course.code},
            SessionErrorCode.COURSE_INACTIVE,
        )


def session_code_suggest(*, course: Course, starts_on: dt.date) -> str:
    """COURSE-YYMM, then COURSE-YYMM-2, -3 … for the next free code."""
    base = f"{course.code}-{starts_on:%y%m}"[:55]
    taken = set(
        TrainingSession.objects.filter(code__startswith=base).values_list("code", flat=True)
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _dates(starts_on: dt.date, ends_on: dt.date) -> list[dt.date]:
    return [starts_on + dt.timedelta(days=n) for n in range((ends_on - starts_on).days + 1)]


def _check_days(session: TrainingSession, days: Sequence[ScheduleDay]) -> None:
    if not days:
        raise ValidationError(
            _("The schedule needs at least one day."), code=SessionErrorCode.NO_SCHEDULE
        )
    seen: set[dt.date] = set()
    for day in days:
        if not session.starts_on <= day.date <= session.ends_on:
            raise ValidationError(
                _("%(date)s is outside the session's dates.") % {"date": day.date.isoformat()},
                code=SessionErrorCode.DAY_OUTSIDE_DATES,
            )
        if day.date in seen:
            raise ValidationError(
                _("%(date)s is in the schedule twice.") % {"date": day.date.isoformat()},
                code=SessionErrorCode.DAY_DUPLICATE,
            )
        if day.starts_at and day.ends_at and day.ends_at <= day.starts_at:
            raise ValidationError(
                _("On %(date)s the day ends before it starts.") % {"date": day.date.isoformat()},
                code=SessionErrorCode.DAY_TIMES_REVERSED,
            )
        seen.add(day.date)


def _drop_days(session: TrainingSession, dates: Iterable[dt.date]) -> None:
    """Delete schedule days, refusing any that already has attendance."""
    doomed = SessionDay.objects.filter(session=session, date__in=list(dates))
    marked = Attendance.objects.filter(day__in=doomed).values_list("day__date", flat=True).first()
    if marked is not None:
        raise ValidationError(
            _("Attendance was taken on %(date)s: that day stays in the schedule.")
            % {"date": marked.isoformat()},
            code=SessionErrorCode.DAY_HAS_ATTENDANCE,
        )
    doomed.delete()


@transaction.atomic
def session_create(
    *,
    actor: User | None,
    course: Course,
    unit: OrgUnit,
    starts_on: dt.date,
    ends_on: dt.date,
    capacity: int,
    code: str = "",
    venue: str = "",
    online_url: str = "",
    planned_cost: Decimal | None = None,
    requires_approval: bool = True,
    facilitators: Iterable[Person] = (),
    days: Sequence[ScheduleDay] | None = None,
) -> TrainingSession:
    """A planned session; its schedule is every date from start to end unless `days` says
    otherwise. The planned cost defaults to the course's cost model for a full cohort."""
    session = TrainingSession(
        code=code.strip() or session_code_suggest(course=course, starts_on=starts_on),
        course=course,
        unit=unit,
        starts_on=starts_on,
        ends_on=ends_on,
        capacity=capacity,
        venue=venue,
        online_url=online_url,
        planned_cost=course.cost_for(capacity) if planned_cost is None else planned_cost,
        requires_approval=requires_approval,
        status=SessionStatus.PLANNED,
        created_by=actor if actor is not None and actor.pk else None,
    )
    _check_course(course)
    _check_session(session, actor)
    session.full_clean()
    if days is not None:
        _check_days(session, days)
    session.save()
    session.facilitators.set(list(facilitators))
    schedule = days if days is not None else [ScheduleDay(d) for d in _dates(starts_on, ends_on)]
    SessionDay.objects.bulk_create(
        SessionDay(session=session, date=d.date, starts_at=d.starts_at, ends_at=d.ends_at,
                   topic=d.topic)
        for d in schedule
    )  # fmt: skip
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=session,
        after={**snapshot(session), "days": len(schedule)},
    )
    return session


def _lock(session: TrainingSession) -> TrainingSession:
    """The session row, locked for the rest of the transaction (seats are counted under it)."""
    return TrainingSession.objects.select_for_update().select_related(None).get(pk=session.pk)


@transaction.atomic
def session_update(
    *,
    actor: User | None,
    session: TrainingSession,
    facilitators: Iterable[Person] | None = None,
    **fields: Any,
) -> TrainingSession:
    """Change a session. Moving the dates keeps the schedule days still inside them and adds
    the newly covered dates; raising the capacity promotes people from the waitlist."""
    unknown = set(fields) - set(SESSION_FIELDS)
    if unknown:
        raise TypeError(f"Unknown session fields: {sorted(unknown)}")
    locked = _lock(session)
    if not session_manage_allowed(actor=actor, session=locked):
        raise _deny()
    changed = {k: v for k, v in fields.items() if getattr(locked, k) != v}
    if locked.status == SessionStatus.CANCELLED or (
        locked.status == SessionStatus.COMPLETED
        and (set(changed) - COMPLETED_FIELDS or facilitators is not None)
    ):
        raise ValidationError(
            _("Session %(code)s is %(status)s and cannot change.")
            % {"code": locked.code, "status": locked.get_status_display()},
            code=SessionErrorCode.FROZEN,
        )
    before = snapshot(locked)
    old_start, old_end, old_capacity = locked.starts_on, locked.ends_on, locked.capacity
    if "course" in changed:
        if locked.enrolments.exists():
            raise field_error(
                "course",
                _("People are enrolled: the course of this session cannot change."),
                SessionErrorCode.COURSE_FROZEN,
            )
        _check_course(changed["course"])
    for name, value in changed.items():
        setattr(locked, name, value)
    _check_session(locked, actor)
    locked.full_clean()
    seated = Enrolment.objects.filter(session=locked, status__in=SEATED).count()
    if locked.capacity < seated:
        raise field_error(
            "capacity",
            _("%(seated)s people already hold a seat.") % {"seated": seated},
            SessionErrorCode.CAPACITY_BELOW_SEATED,
        )
    if (locked.starts_on, locked.ends_on) != (old_start, old_end):
        inside = set(_dates(locked.starts_on, locked.ends_on))
        existing = set(SessionDay.objects.filter(session=locked).values_list("date", flat=True))
        _drop_days(locked, existing - inside)
        old = set(_dates(old_start, old_end))
        SessionDay.objects.bulk_create(
            SessionDay(session=locked, date=d) for d in sorted(inside - old - existing)
        )
    locked.save()
    if facilitators is not None:
        locked.facilitators.set(list(facilitators))
    promoted = _fill_seats(locked) if locked.capacity > old_capacity else []
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=locked,
        before=before,
        after={**snapshot(locked), **({"promoted": len(promoted)} if promoted else {})},
    )
    _notify_promoted(locked, promoted)
    return locked


@transaction.atomic
def session_schedule_set(
    *, actor: User | None, session: TrainingSession, days: Sequence[ScheduleDay]
) -> list[SessionDay]:
    """Replace the schedule: days not listed go (unless attendance was taken on them)."""
    locked = _lock(session)
    if not session_manage_allowed(actor=actor, session=locked):
        raise _deny()
    if locked.status in OVER:
        raise ValidationError(
            _("Session %(code)s is %(status)s and cannot change.")
            % {"code": locked.code, "status": locked.get_status_display()},
            code=SessionErrorCode.FROZEN,
        )
    _check_days(locked, days)
    existing = {d.date: d for d in SessionDay.objects.filter(session=locked)}
    wanted = {d.date: d for d in days}
    _drop_days(locked, set(existing) - set(wanted))
    keep: list[SessionDay] = []
    new: list[SessionDay] = []
    for date, spec in wanted.items():
        row = existing.get(date) or SessionDay(session=locked, date=date)
        row.starts_at, row.ends_at, row.topic = spec.starts_at, spec.ends_at, spec.topic
        (keep if row.pk else new).append(row)
    SessionDay.objects.bulk_update(keep, ["starts_at", "ends_at", "topic"])
    SessionDay.objects.bulk_create(new)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=locked,
        after={"days": sorted(d.isoformat() for d in wanted)},
    )
    return list(SessionDay.objects.filter(session=locked))


@transaction.atomic
def session_transition(
    *, actor: User | None, session: TrainingSession, status: str
) -> TrainingSession:
    """planned → open → running; any of them → cancelled. Completion is `session_complete`.

    Organisers move a session on; a facilitator may also start it. Cancelling withdraws
    everyone and tells them by e-mail."""
    locked = _lock(session)
    allowed = session_manage_allowed(actor=actor, session=locked) or (
        status == SessionStatus.RUNNING and session_run_allowed(actor=actor, session=locked)
    )
    if not allowed:
        raise _deny()
    if status not in TRANSITIONS.get(locked.status, ()):
        raise ValidationError(
            _("A session that is %(status)s cannot become %(target)s.")
            % {
                "status": locked.get_status_display(),
                "target": SessionStatus(status).label if status in SessionStatus else status,
            },
            code=SessionErrorCode.BAD_TRANSITION,
        )
    before = locked.status
    withdrawn: list[int] = []
    if status == SessionStatus.CANCELLED:
        live = Enrolment.objects.filter(session=locked, status__in=LIVE)
        withdrawn = list(live.values_list("person_id", flat=True))
        live.update(status=EnrolmentStatus.WITHDRAWN, decided_by=_user(actor),
                    decided_at=timezone.now())  # fmt: skip
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=locked,
        before={"status": before},
        after={"status": status, **({"withdrawn": len(withdrawn)} if withdrawn else {})},
    )
    if withdrawn:
        _mail_on_commit(
            withdrawn,
            subject=gettext_noop("Cancelled: %(course)s (%(code)s)"),
            body=gettext_noop(
                "Dear %(name)s,\n\nThe training session %(code)s of %(course)s, planned from "
                "%(start)s to %(end)s, is cancelled. Your place in it is withdrawn.\n"
            ),
            session=locked,
        )
    return locked


# --- enrolment -------------------------------------------------------------------------


def _user(actor: User | None) -> User | None:
    return actor if actor is not None and actor.pk else None


def enrolment_conflicts(*, person: Person, session: TrainingSession) -> QuerySet[Enrolment]:
    """The person's other live enrolments in sessions whose dates overlap this one's."""
    return conflicts_of(person_ids=[person.pk], session=session)


def conflicts_of(*, person_ids: Iterable[int], session: TrainingSession) -> QuerySet[Enrolment]:
    """Set-based `enrolment_conflicts` for many people (one query)."""
    return (
        Enrolment.objects.filter(
            person_id__in=list(person_ids),
            status__in=LIVE,
            session__starts_on__lte=session.ends_on,
            session__ends_on__gte=session.starts_on,
        )
        .exclude(session_id=session.pk)
        .exclude(session__status__in=OVER)
        .select_related("person", "session", "session__course")
        .order_by("person_id", "session__starts_on")
    )


def _conflicts(person_ids: Iterable[int], session: TrainingSession) -> dict[int, list[Enrolment]]:
    found: dict[int, list[Enrolment]] = defaultdict(list)
    for enrolment in conflicts_of(person_ids=person_ids, session=session):
        found[enrolment.person_id].append(enrolment)
    return dict(found)


def _enrol(
    *,
    actor: User | None,
    session: TrainingSession,
    person_ids: Sequence[int],
    route: str,
    request_approval: bool = False,
) -> EnrolmentResult:
    """Place people, in the order given: seats while they last, then the waitlist (or all
    as requests awaiting approval). A few queries whatever the number of people.

    The caller holds the session lock. People already in the session, or live in another
    session of the same course, are skipped; earlier withdrawn or rejected rows are reused
    (one enrolment per person and session)."""
    result = EnrolmentResult()
    ids = list(dict.fromkeys(person_ids))
    existing = {
        e.person_id: e for e in Enrolment.objects.filter(session=session, person_id__in=ids)
    }
    elsewhere = set(
        Enrolment.objects.filter(
            session__course_id=session.course_id, status__in=LIVE, person_id__in=ids
        )
        .exclude(session=session)
        .values_list("person_id", flat=True)
    )
    reusable = (EnrolmentStatus.WITHDRAWN, EnrolmentStatus.REJECTED)
    todo = []
    for pk in ids:
        if pk in elsewhere or (pk in existing and existing[pk].status not in reusable):
            result.skipped.append(pk)
        else:
            todo.append(pk)
    if not todo:
        return result
    free = 0
    if not request_approval:
        seated = Enrolment.objects.filter(session=session, status__in=SEATED).count()
        free = max(0, session.capacity - seated)
    now = timezone.now()
    new: list[Enrolment] = []
    reused: list[Enrolment] = []
    for n, pk in enumerate(todo):
        if request_approval:
            status = EnrolmentStatus.REQUESTED
        else:
            status = EnrolmentStatus.ENROLLED if n < free else EnrolmentStatus.WAITLISTED
        row = existing.get(pk) or Enrolment(session=session, person_id=pk)
        row.route, row.status, row.requested_by, row.requested_at = route, status, _user(actor), now
        row.decided_by = _user(actor) if status != EnrolmentStatus.REQUESTED else None
        row.decided_at = now if status != EnrolmentStatus.REQUESTED else None
        row.attendance_percent = row.score = row.passed = row.completed_at = None
        (reused if row.pk else new).append(row)
    Enrolment.objects.bulk_update(
        reused,
        ["route", "status", "requested_by", "requested_at", "decided_by", "decided_at",
         "attendance_percent", "score", "passed", "completed_at"],
    )  # fmt: skip
    created = Enrolment.objects.bulk_create(new)
    order = {pk: n for n, pk in enumerate(todo)}
    for row in sorted([*reused, *created], key=lambda r: order[r.person_id]):
        {
            EnrolmentStatus.ENROLLED: result.enrolled,
            EnrolmentStatus.WAITLISTED: result.waitlisted,
            EnrolmentStatus.REQUESTED: result.requested,
        }[EnrolmentStatus(row.status)].append(row)
    result.conflicts = _conflicts(todo, session)
    return result


def _audit_enrolment(
    actor: User | None, session: TrainingSession, result: EnrolmentResult, route: str
) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="training.enrolment",
        object_id=str(session.pk),
        object_repr=f"{session.code}: {len(result.added)} enrolments ({route})",
        after={
            "route": route,
            "enrolled": [e.person_id for e in result.enrolled],
            "waitlisted": [e.person_id for e in result.waitlisted],
            "requested": [e.person_id for e in result.requested],
            "skipped": result.skipped,
        },
    )


def _require_enrolling(session: TrainingSession, *, self_service: bool = False) -> None:
    ok = session.status == SessionStatus.OPEN if self_service else session.status in ENROLLING
    if not ok:
        raise ValidationError(
            _("Session %(code)s is %(status)s: it takes no enrolments.")
            % {"code": session.code, "status": session.get_status_display()},
            code=SessionErrorCode.CLOSED_FOR_ENROLMENT,
        )


@transaction.atomic
def enrolment_request(*, actor: User | None, session: TrainingSession, person: Person) -> Enrolment:
    """A person asks for a place in an open session. With a supervisor and a session that
    needs approval, the request waits for the supervisor; otherwise a seat or the waitlist."""
    if actor is not None and scope_for(actor).person_id != person.pk:
        raise _deny()
    locked = _lock(session)
    _require_enrolling(locked, self_service=True)
    person = Person.objects.select_related("unit").get(pk=person.pk)
    if not person.is_active:
        raise ValidationError(
            _("%(name)s is not active staff.") % {"name": person.full_name},
            code=SessionErrorCode.PERSON_INACTIVE,
        )
    if not session_open_to(session=locked, person=person):
        raise ValidationError(
            _("This session is not open to you."), code=SessionErrorCode.NOT_FOR_PERSON
        )
    needs_approval = locked.requires_approval and person.supervisor_id is not None
    result = _enrol(
        actor=actor,
        session=locked,
        person_ids=[person.pk],
        route=EnrolmentRoute.SELF,
        request_approval=needs_approval,
    )
    if not result.added:
        raise ValidationError(
            _("You are already enrolled in this course."), code=SessionErrorCode.ALREADY_ENROLLED
        )
    _audit_enrolment(actor, locked, result, EnrolmentRoute.SELF)
    return result.added[0]


@transaction.atomic
def enrolment_decide(*, actor: User | None, enrolment: Enrolment, approve: bool) -> Enrolment:
    """The supervisor (or a manager over the person) approves or rejects a request."""
    locked = _lock(enrolment.session)
    enrolment = Enrolment.objects.select_related("person", "person__unit").get(pk=enrolment.pk)
    if not enrolment_decide_allowed(actor=actor, person=enrolment.person):
        raise _deny()
    if enrolment.status != EnrolmentStatus.REQUESTED:
        raise ValidationError(
            _("This enrolment is not awaiting approval."), code=SessionErrorCode.NOT_REQUESTED
        )
    if approve:
        _require_enrolling(locked)
        seated = Enrolment.objects.filter(session=locked, status__in=SEATED).count()
        enrolment.status = (
            EnrolmentStatus.ENROLLED if seated < locked.capacity else EnrolmentStatus.WAITLISTED
        )
    else:
        enrolment.status = EnrolmentStatus.REJECTED
    enrolment.decided_by = _user(actor)
    enrolment.decided_at = timezone.now()
    enrolment.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=enrolment,
        before={"status": EnrolmentStatus.REQUESTED},
        after={"status": enrolment.status},
    )
    return enrolment


@transaction.atomic
def enrolment_nominate(
    *, actor: User | None, session: TrainingSession, people: Sequence[Person]
) -> EnrolmentResult:
    """A supervisor nominates direct reports, a unit manager anyone in their subtree: straight
    to a seat or the waitlist, no approval needed."""
    people = list(Person.objects.select_related("unit").filter(pk__in=[p.pk for p in people]))
    if not all(enrolment_decide_allowed(actor=actor, person=p) for p in people):
        raise _deny()
    locked = _lock(session)
    manages = session_manage_allowed(actor=actor, session=locked)
    _require_enrolling(locked, self_service=not manages)
    inactive = [p.full_name for p in people if not p.is_active]
    if inactive:
        raise ValidationError(
            _("%(name)s is not active staff.") % {"name": ", ".join(inactive)},
            code=SessionErrorCode.PERSON_INACTIVE,
        )
    order = sorted(people, key=lambda p: (p.family_name, p.given_name, p.pk))
    result = _enrol(
        actor=actor,
        session=locked,
        person_ids=[p.pk for p in order],
        route=EnrolmentRoute.NOMINATED,
    )
    _audit_enrolment(actor, locked, result, EnrolmentRoute.NOMINATED)
    return result


def people_below_requirement(
    *,
    unit: OrgUnit,
    item: FrameworkItem,
    course: Course | None = None,
    role: Role | None = None,
    sex: str = "",
) -> QuerySet[Person]:
    """Active staff of the unit subtree whose current level of `item` is below what their
    role requires, biggest gap first; people never assessed (no current level) are not
    "below". With a course, people live in (or done with) one of its sessions are left out.

    Unscoped: callers check that the user may manage `unit`. One query, annotated with
    `required`, `current` and `gap`."""
    required = RoleRequirement.objects.filter(item=item, role_id=OuterRef("role_id")).values(
        "required"
    )[:1]
    current = CurrentLevel.objects.filter(item=item, person_id=OuterRef("pk")).values("value")[:1]
    people = (
        Person.objects.filter(
            is_active=True,
            unit__path__startswith=unit.path,
            role_id__in=RoleRequirement.objects.filter(item=item).values("role_id"),
        )
        .annotate(required=Subquery(required), current=Subquery(current))
        .filter(current__isnull=False, current__lt=F("required"))
        .annotate(gap=F("required") - F("current"))
    )
    if role is not None:
        people = people.filter(role=role)
    if sex:
        people = people.filter(sex=sex)
    if course is not None:
        taken = Enrolment.objects.filter(
            session__course=course, status__in=(*LIVE, EnrolmentStatus.COMPLETED)
        ).values("person_id")
        people = people.exclude(pk__in=taken)
    return people.order_by("-gap", "family_name", "given_name", "pk")


@transaction.atomic
def enrolment_bulk_from_needs(
    *,
    actor: User | None,
    session: TrainingSession,
    unit: OrgUnit,
    item: FrameworkItem,
    role: Role | None = None,
    sex: str = "",
    limit: int | None = None,
) -> EnrolmentResult:
    """Enrol everyone the training-needs analysis finds below requirement (see
    `people_below_requirement`), or the first `limit` of them: seats go to the biggest gaps
    first, the rest wait."""
    if actor is not None and not (
        can_manage_sessions_of(actor, session.unit) and scope_for(actor).can_manage_unit(unit)
    ):
        raise _deny()
    locked = _lock(session)
    _require_enrolling(locked)
    people = people_below_requirement(
        unit=unit, item=item, course=locked.course, role=role, sex=sex
    ).values_list("pk", flat=True)
    ids = list(people if limit is None else people[:limit])
    result = _enrol(actor=actor, session=locked, person_ids=ids, route=EnrolmentRoute.NEEDS)
    _audit_enrolment(actor, locked, result, EnrolmentRoute.NEEDS)
    return result


def _fill_seats(session: TrainingSession) -> list[int]:
    """Promote the earliest waitlisted people into free seats. Returns their person ids.
    The caller holds the session lock."""
    if session.status in OVER:
        return []
    seated = Enrolment.objects.filter(session=session, status__in=SEATED).count()
    free = session.capacity - seated
    if free <= 0:
        return []
    first = list(
        Enrolment.objects.filter(session=session, status=EnrolmentStatus.WAITLISTED)
        .order_by("requested_at", "pk")
        .values_list("pk", "person_id")[:free]
    )
    if first:
        Enrolment.objects.filter(pk__in=[pk for pk, _person in first]).update(
            status=EnrolmentStatus.ENROLLED, decided_at=timezone.now()
        )
    return [person for _pk, person in first]


def _notify_promoted(session: TrainingSession, person_ids: list[int]) -> None:
    if person_ids:
        _mail_on_commit(
            person_ids,
            subject=gettext_noop("You have a place: %(course)s (%(code)s)"),
            body=gettext_noop(
                "Dear %(name)s,\n\nA seat became free in the training session %(code)s of "
                "%(course)s, from %(start)s to %(end)s. You were first on the waitlist and "
                "are now enrolled.\n"
            ),
            session=session,
        )


@transaction.atomic
def enrolment_withdraw(*, actor: User | None, enrolment: Enrolment) -> Enrolment:
    """Leave a session (or withdraw someone). A freed seat goes to the earliest waitlisted."""
    locked = _lock(enrolment.session)
    enrolment = Enrolment.objects.select_related("person", "person__unit", "session__unit").get(
        pk=enrolment.pk
    )
    if not enrolment_withdraw_allowed(actor=actor, enrolment=enrolment):
        raise _deny()
    if enrolment.status not in LIVE or locked.status in OVER:
        raise ValidationError(
            _("This enrolment can no longer be withdrawn."),
            code=SessionErrorCode.NOT_WITHDRAWABLE,
        )
    before = enrolment.status
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.decided_by = _user(actor)
    enrolment.decided_at = timezone.now()
    enrolment.save(update_fields=["status", "decided_by", "decided_at"])
    promoted = _fill_seats(locked) if before == EnrolmentStatus.ENROLLED else []
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=enrolment,
        before={"status": before},
        after={"status": enrolment.status, "promoted": promoted},
    )
    _notify_promoted(locked, promoted)
    return enrolment


# --- attendance and completion ---------------------------------------------------------


@transaction.atomic
def attendance_record(
    *, actor: User | None, session: TrainingSession, day: SessionDay, marks: Mapping[int, bool]
) -> int:
    """Present or absent, per enrolment id, for one day of a running session. A tap on the
    phone screen records one mark; "all present" records the whole day. Returns marks saved."""
    if not session_run_allowed(actor=actor, session=session):
        raise _deny()
    if session.status != SessionStatus.RUNNING:
        raise ValidationError(
            _("Attendance is taken while the session is running."),
            code=SessionErrorCode.NOT_RUNNING,
        )
    if day.session_id != session.pk:
        raise ValidationError(
            _("That day is not in this session's schedule."), code=SessionErrorCode.DAY_UNKNOWN
        )
    ids = set(marks)
    seated = set(
        Enrolment.objects.filter(
            session=session, pk__in=ids, status=EnrolmentStatus.ENROLLED
        ).values_list("pk", flat=True)
    )
    if seated != ids:
        raise ValidationError(
            _("Attendance is only taken for enrolled participants."),
            code=SessionErrorCode.NOT_SEATED,
        )
    Attendance.objects.bulk_create(
        [
            Attendance(enrolment_id=pk, day=day, present=present, recorded_by=_user(actor))
            for pk, present in sorted(marks.items())
        ],
        update_conflicts=True,
        unique_fields=["enrolment", "day"],
        update_fields=["present", "recorded_by", "recorded_at"],
    )
    present = sum(1 for value in marks.values() if value)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=session,
        after={"attendance": day.date.isoformat(), "present": present,
               "absent": len(marks) - present},
    )  # fmt: skip
    return len(marks)


@transaction.atomic
def session_complete(
    *,
    actor: User | None,
    session: TrainingSession,
    scores: Mapping[int, int | None] | None = None,
    completed_on: dt.date | None = None,
    actual_cost: Decimal | None = None,
) -> CompletionResult:
    """Close a running session. For each enrolled participant: attendance % = present days /
    schedule days; they pass with at least the course's minimum attendance and, when the
    course has a final test, a score (by enrolment id in `scores`) of at least the pass mark.
    Passers complete through `enrolment_complete` (certificate, CPD, evidence); the others
    are recorded as not completed. Waitlisted people and open requests are withdrawn."""
    if not session_run_allowed(actor=actor, session=session):
        raise _deny()
    locked = _lock(session)
    if locked.status != SessionStatus.RUNNING:
        raise ValidationError(
            _("Only a running session can be completed."), code=SessionErrorCode.NOT_RUNNING
        )
    scores = dict(scores or {})
    for value in scores.values():
        if value is not None and not 0 <= value <= 100:
            raise ValidationError(
                _("A score is a percentage from 0 to 100."), code=SessionErrorCode.SCORE_INVALID
            )
    days = SessionDay.objects.filter(session=locked).count()
    if not days:
        raise ValidationError(
            _("The schedule needs at least one day."), code=SessionErrorCode.NO_SCHEDULE
        )
    course = Course.objects.get(pk=locked.course_id)
    present = dict(
        Attendance.objects.filter(day__session=locked, present=True)
        .values("enrolment_id")
        .annotate(n=Count("pk"))
        .values_list("enrolment_id", "n")
        .order_by()
    )
    completed_on = completed_on or min(locked.ends_on, timezone.localdate())
    result = CompletionResult()
    failed = []
    enrolled = Enrolment.objects.filter(session=locked, status=EnrolmentStatus.ENROLLED)
    for enrolment in enrolled.order_by("pk"):
        percent = attendance_percent(present.get(enrolment.pk, 0), days)
        score = scores.get(enrolment.pk)
        if passes(course=course, attendance_percent=percent, score=score):
            result.certificates.append(
                enrolment_complete(
                    actor=actor,
                    enrolment=enrolment,
                    completed_on=completed_on,
                    attendance_percent=percent,
                    score=score,
                )
            )
            result.completed.append(enrolment)
        else:
            enrolment.status = EnrolmentStatus.NOT_COMPLETED
            enrolment.attendance_percent, enrolment.score, enrolment.passed = percent, score, False
            failed.append(enrolment)
    Enrolment.objects.bulk_update(failed, ["status", "attendance_percent", "score", "passed"])
    result.not_completed = failed
    result.withdrawn = Enrolment.objects.filter(
        session=locked, status__in=(EnrolmentStatus.WAITLISTED, EnrolmentStatus.REQUESTED)
    ).update(status=EnrolmentStatus.WITHDRAWN, decided_by=_user(actor), decided_at=timezone.now())
    locked.status = SessionStatus.COMPLETED
    fields = ["status", "updated_at"]
    if actual_cost is not None:
        locked.actual_cost = actual_cost
        fields.append("actual_cost")
        locked.full_clean()
    locked.save(update_fields=fields)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=locked,
        before={"status": SessionStatus.RUNNING},
        after={
            "status": SessionStatus.COMPLETED,
            "completed": len(result.completed),
            "not_completed": len(result.not_completed),
            "withdrawn": result.withdrawn,
            "actual_cost": str(locked.actual_cost) if locked.actual_cost is not None else None,
        },
    )
    return result


# --- notifications ---------------------------------------------------------------------


def _mail_on_commit(
    person_ids: Iterable[int], *, subject: str, body: str, session: TrainingSession
) -> None:
    """E-mail people about their session once the change is committed; a mail server that
    is down costs a log line, not the change."""
    ids = sorted(set(person_ids))

    def send() -> None:
        course = Course.objects.get(pk=session.course_id)
        people = Person.objects.filter(pk__in=ids).exclude(email="")
        with translation.override(settings.LANGUAGE_CODE):
            values = {
                "code": session.code,
                "course": course.title,
                "start": session.starts_on.isoformat(),
                "end": session.ends_on.isoformat(),
            }
            messages = [
                (
                    _(subject) % values,
                    _(body) % {**values, "name": person.full_name},
                    settings.DEFAULT_FROM_EMAIL,
                    [person.email],
                )
                for person in people
            ]
        try:
            send_mass_mail(messages, fail_silently=False, connection=get_connection())
        except OSError:
            logger.exception("Session %s: notification e-mails not sent", session.code)

    transaction.on_commit(send)

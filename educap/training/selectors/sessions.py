"""Reads of sessions and enrolments, limited to what the caller may see.

- Organisers (managers of a unit subtree) see every session their subtree runs.
- Everyone sees the open sessions they could join, the sessions they are enrolled in and
  the sessions they facilitate; supervisors also see where their direct reports enrol.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR

from educap.accounts.scope import scope_for
from educap.frameworks.models import Framework, FrameworkItem
from educap.gaps import selectors as gap_selectors
from educap.gaps.selectors import GapFilters, Need
from educap.org.models import OrgUnit
from educap.people.models import Person, Role
from educap.training.models import (
    Attendance,
    Course,
    CourseCompetency,
    Enrolment,
    EnrolmentStatus,
    SessionDay,
    SessionStatus,
    TrainingSession,
)
from educap.training.models.sessions import SEATED
from educap.training.services.sessions import (
    LIVE,
    SessionErrorCode,
    conflicts_of,
    people_below_requirement,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User

FacilitatorLink = TrainingSession.facilitators.through
TargetRole = Course.target_roles.through


def person_of(*, user: User | AnonymousUser) -> Person | None:
    """The caller's staff record with its unit (one query, remembered on the user)."""
    person_id = scope_for(user).person_id
    if person_id is None:
        return None
    cached: Person | None = getattr(user, "_training_person", None)
    if cached is None or cached.pk != person_id:
        cached = Person.objects.select_related("unit").filter(pk=person_id).first()
        user._training_person = cached  # type: ignore[union-attr]
    return cached


def joinable_q(person: Person) -> Q:
    """Sessions a person could ask to join: run by their unit or one above it, for a course
    open to every role or to theirs (status not included)."""
    if person.unit is None:
        return Q(pk__in=[])
    roles = TargetRole.objects.filter(course_id=OuterRef("course_id"))
    for_role = Q(~Exists(roles))
    if person.role_id is not None:
        for_role |= Q(Exists(roles.filter(role_id=person.role_id)))
    return Q(unit_id__in=person.unit.ancestor_ids()) & for_role


def _visible_q(user: User | AnonymousUser) -> Q:
    scope = scope_for(user)
    if scope.is_admin:
        return Q()
    query = Q(pk__in=[])
    for path in scope.subtree_paths:
        query |= Q(unit__path__startswith=path)
    person = person_of(user=user)
    if person is not None:
        query |= Q(pk__in=Enrolment.objects.filter(person_id=person.pk).values("session_id"))
        query |= Q(
            pk__in=FacilitatorLink.objects.filter(person_id=person.pk).values("trainingsession_id")
        )
        if scope.is_supervisor:
            query |= Q(
                pk__in=Enrolment.objects.filter(person__supervisor_id=person.pk).values(
                    "session_id"
                )
            )
        query |= Q(status=SessionStatus.OPEN) & joinable_q(person)
    return query


MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(value: str) -> dt.date | None:
    """ "2026-03" -> 1 March 2026; anything else -> None."""
    match = MONTH.match(value or "")
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and 1900 < year < 2200):
        return None
    return dt.date(year, month, 1)


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, last


def session_list(
    *,
    user: User | AnonymousUser,
    course: Course | None = None,
    unit: OrgUnit | None = None,
    status: str = "",
    month: dt.date | None = None,
    search: str = "",
) -> QuerySet[TrainingSession]:
    """Visible sessions with their seat counts (`seated`, `waitlisted`, `requested`),
    soonest-ending last (newest first). `unit` means the unit and everything under it;
    `month` keeps sessions that overlap that month."""
    sessions = TrainingSession.objects.filter(_visible_q(user))
    if course is not None:
        sessions = sessions.filter(course=course)
    if unit is not None:
        sessions = sessions.filter(unit__path__startswith=unit.path)
    if status:
        sessions = sessions.filter(status=status)
    if month is not None:
        first, last = month_bounds(month)
        sessions = sessions.filter(starts_on__lte=last, ends_on__gte=first)
    term = search.strip()
    if term:
        sessions = sessions.filter(
            Q(code__icontains=term)
            | Q(course__code__icontains=term)
            | Q(course__title__icontains=term)
        )
    return sessions.select_related("course", "unit", "unit__level").annotate(
        seated=Count("enrolments", filter=Q(enrolments__status__in=SEATED)),
        waitlisted=Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.WAITLISTED)),
        requested=Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.REQUESTED)),
    )


def session_get(*, user: User | AnonymousUser, code: str) -> TrainingSession:
    """One visible session, or 404 (never reveal that it exists)."""
    try:
        return session_list(user=user).get(code=code)
    except TrainingSession.DoesNotExist as exc:
        raise Http404 from exc


# --- a learner's and a supervisor's view -----------------------------------------------


def my_enrolments(*, user: User | AnonymousUser) -> QuerySet[Enrolment]:
    person_id = scope_for(user).person_id
    if person_id is None:
        return Enrolment.objects.none()
    return (
        Enrolment.objects.filter(person_id=person_id)
        .select_related("session", "session__course", "session__unit", "certificate")
        .order_by("-session__starts_on", "-pk")
    )


def open_sessions_for(*, user: User | AnonymousUser) -> QuerySet[TrainingSession]:
    """Open sessions, not over yet, the caller could ask to join and is not in already."""
    person = person_of(user=user)
    if person is None or not person.is_active:
        return TrainingSession.objects.none()
    mine = Enrolment.objects.filter(person_id=person.pk).exclude(
        status__in=(EnrolmentStatus.WITHDRAWN, EnrolmentStatus.REJECTED)
    )
    return (
        TrainingSession.objects.filter(
            joinable_q(person), status=SessionStatus.OPEN, ends_on__gte=timezone.localdate()
        )
        .exclude(pk__in=mine.values("session_id"))
        .select_related("course", "unit")
        .annotate(seated=Count("enrolments", filter=Q(enrolments__status__in=SEATED)))
        .order_by("starts_on", "code")
    )


def pending_approvals(*, user: User | AnonymousUser) -> QuerySet[Enrolment]:
    """Requests from the caller's direct reports waiting for a decision."""
    person_id = scope_for(user).person_id
    if person_id is None:
        return Enrolment.objects.none()
    return (
        Enrolment.objects.filter(
            person__supervisor_id=person_id,
            status=EnrolmentStatus.REQUESTED,
            session__status__in=(SessionStatus.PLANNED, SessionStatus.OPEN, SessionStatus.RUNNING),
        )
        .select_related("person", "session", "session__course")
        .order_by("requested_at", "pk")
    )


def enrolment_list(*, user: User | AnonymousUser) -> QuerySet[Enrolment]:
    """Enrolments of people the caller may read, and of the sessions they organise or
    facilitate."""
    scope = scope_for(user)
    query = scope.person_q(prefix="person__")
    if not scope.is_admin:
        for path in scope.subtree_paths:
            query |= Q(session__unit__path__startswith=path)
        if scope.person_id is not None:
            query |= Q(
                session_id__in=FacilitatorLink.objects.filter(person_id=scope.person_id).values(
                    "trainingsession_id"
                )
            )
    return (
        Enrolment.objects.filter(query)
        .select_related("person", "session")
        .order_by("-requested_at", "-pk")
    )


# --- one session -----------------------------------------------------------------------


@dataclass
class SessionPeople:
    seated: list[Enrolment] = field(default_factory=list)
    waitlist: list[Enrolment] = field(default_factory=list)
    requests: list[Enrolment] = field(default_factory=list)
    # Withdrawn and rejected, for the record.
    left: list[Enrolment] = field(default_factory=list)

    @property
    def live_person_ids(self) -> list[int]:
        return [
            e.person_id for e in (*self.seated, *self.waitlist, *self.requests) if e.status in LIVE
        ]


def session_people(*, session: TrainingSession) -> SessionPeople:
    """Everyone in a session by where they stand; the waitlist in promotion order (one query)."""
    people = SessionPeople()
    rows = (
        Enrolment.objects.filter(session=session)
        .select_related("person", "person__unit", "person__role", "certificate")
        .order_by("requested_at", "pk")
    )
    for row in rows:
        if row.status in SEATED:
            people.seated.append(row)
        elif row.status == EnrolmentStatus.WAITLISTED:
            people.waitlist.append(row)
        elif row.status == EnrolmentStatus.REQUESTED:
            people.requests.append(row)
        else:
            people.left.append(row)
    people.seated.sort(key=lambda e: (e.person.family_name, e.person.given_name, e.pk))
    return people


def session_conflicts(
    *, session: TrainingSession, person_ids: list[int]
) -> dict[int, list[Enrolment]]:
    """person id -> their other live enrolments that overlap this session (one query)."""
    found: dict[int, list[Enrolment]] = defaultdict(list)
    if person_ids and session.status not in (SessionStatus.COMPLETED, SessionStatus.CANCELLED):
        for enrolment in conflicts_of(person_ids=person_ids, session=session):
            found[enrolment.person_id].append(enrolment)
    return dict(found)


def missing_prerequisites(
    *, session: TrainingSession, person_ids: list[int]
) -> dict[int, list[Course]]:
    """person id -> the prerequisite courses of the session's course they have not
    completed (two queries). A warning for whoever enrols them, not a bar: prior learning
    elsewhere may count."""
    required = list(session.course.prerequisites.order_by("code"))
    if not required or not person_ids:
        return {}
    done: dict[int, set[int]] = defaultdict(set)
    for person_id, course_id in Enrolment.objects.filter(
        person_id__in=person_ids,
        status=EnrolmentStatus.COMPLETED,
        session__course__in=required,
    ).values_list("person_id", "session__course_id"):
        done[person_id].add(course_id)
    missing = {
        person_id: [course for course in required if course.pk not in done[person_id]]
        for person_id in person_ids
    }
    return {person_id: courses for person_id, courses in missing.items() if courses}


def session_days(*, session: TrainingSession) -> list[SessionDay]:
    return list(SessionDay.objects.filter(session=session).order_by("date"))


@dataclass
class AttendanceRow:
    enrolment: Enrolment
    # day id -> present; days without a mark are missing.
    marks: dict[int, bool]

    @property
    def present(self) -> int:
        return sum(1 for value in self.marks.values() if value)


@dataclass
class AttendanceGrid:
    days: list[SessionDay]
    rows: list[AttendanceRow]

    def present_on(self, day: SessionDay) -> int:
        return sum(1 for row in self.rows if row.marks.get(day.pk))

    def marked_on(self, day: SessionDay) -> int:
        return sum(1 for row in self.rows if day.pk in row.marks)


def attendance_grid(*, session: TrainingSession) -> AttendanceGrid:
    """Seated participants x schedule days with their marks (three queries)."""
    days = session_days(session=session)
    seated = list(
        Enrolment.objects.filter(session=session, status__in=SEATED)
        .select_related("person", "person__unit")
        .order_by("person__family_name", "person__given_name", "pk")
    )
    marks: dict[int, dict[int, bool]] = defaultdict(dict)
    for enrolment_id, day_id, present in Attendance.objects.filter(
        day__session=session
    ).values_list("enrolment_id", "day_id", "present"):
        marks[enrolment_id][day_id] = present
    return AttendanceGrid(days, [AttendanceRow(e, marks.get(e.pk, {})) for e in seated])


def attendance_day_pick(*, days: list[SessionDay], wanted: str = "") -> SessionDay | None:
    """The day asked for (YYYY-MM-DD), else today when scheduled, else the first day."""
    by_date = {d.date.isoformat(): d for d in days}
    if wanted in by_date:
        return by_date[wanted]
    today = timezone.localdate()
    if today.isoformat() in by_date:
        return by_date[today.isoformat()]
    past = [d for d in days if d.date < today]
    # A running session between two days: the last day that happened; else the first day.
    return past[-1] if past else (days[0] if days else None)


# --- bulk enrolment from the training-needs analysis -----------------------------------


@dataclass
class NeedOption:
    item: FrameworkItem
    below: int | None
    # The session's course develops this competency.
    course_develops: bool


def need_options(
    *, user: User | AnonymousUser, unit: OrgUnit, course: Course, limit: int = 25
) -> list[NeedOption]:
    """Competencies to enrol people for: the unit's training needs (ranked by priority) with
    the course's own competencies first."""
    developed = list(
        CourseCompetency.objects.filter(course=course).select_related("item", "item__framework")
    )
    developed_ids = {link.item_id for link in developed}
    framework: Framework | None = (
        developed[0].item.framework if developed else gap_selectors.default_framework()
    )
    needs: list[Need] = []
    if framework is not None and gap_selectors.gaps_visible(user=user, unit=unit):
        needs = gap_selectors.training_needs(
            user=user, unit=unit, filters=GapFilters(framework=framework), limit=limit
        )
    below = {need.item.pk: (None if need.stats.suppressed else need.stats.below) for need in needs}
    options = [NeedOption(link.item, below.get(link.item_id), True) for link in developed]
    options += [
        NeedOption(need.item, below[need.item.pk], False)
        for need in needs
        if need.item.pk not in developed_ids
    ]
    return options


@dataclass
class NeedsPreview:
    people: QuerySet[Person]
    total: int
    # (role, sex, people), largest first.
    by_role_sex: list[tuple[Role | None, str, int]]
    seats_free: int

    @property
    def would_enrol(self) -> int:
        return min(self.total, self.seats_free)

    @property
    def would_waitlist(self) -> int:
        return max(0, self.total - self.seats_free)


def needs_preview(
    *,
    user: User | AnonymousUser,
    session: TrainingSession,
    unit: OrgUnit,
    item: FrameworkItem,
    role: Role | None = None,
    sex: str = "",
) -> NeedsPreview:
    """Who `enrolment_bulk_from_needs` would enrol, with counts by role and sex (three
    queries plus the page of people the caller shows)."""
    if not scope_for(user).can_manage_unit(unit):
        raise PermissionDenied(SessionErrorCode.NOT_ALLOWED)
    people = people_below_requirement(
        unit=unit, item=item, course=session.course, role=role, sex=sex
    )
    counts = list(
        people.order_by()
        .values("role_id", "sex")
        .annotate(n=Count("pk"))
        .values_list("role_id", "sex", "n")
    )
    roles = Role.objects.in_bulk({role_id for role_id, _sex, _n in counts if role_id})
    seated = Enrolment.objects.filter(session=session, status__in=SEATED).count()
    return NeedsPreview(
        people=people.select_related("unit", "role"),
        total=sum(n for _r, _s, n in counts),
        by_role_sex=sorted(
            ((roles.get(role_id), sex, n) for role_id, sex, n in counts),
            key=lambda entry: (-entry[2], str(entry[0] or ""), entry[1]),
        ),
        seats_free=max(0, session.capacity - seated),
    )


# --- calendar --------------------------------------------------------------------------


@dataclass
class CalendarDay:
    date: dt.date
    in_month: bool
    is_today: bool
    sessions: list[TrainingSession] = field(default_factory=list)


@dataclass
class CalendarMonth:
    month: dt.date
    unit: OrgUnit | None
    weekdays: list[str]
    weeks: list[list[CalendarDay]]
    sessions: list[TrainingSession]

    @property
    def previous(self) -> dt.date:
        return (self.month - dt.timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> dt.date:
        return month_bounds(self.month)[1] + dt.timedelta(days=1)


def session_calendar(
    *,
    user: User | AnonymousUser,
    unit: OrgUnit | None,
    month: dt.date,
    first_weekday: int = 0,
) -> CalendarMonth:
    """Visible sessions of a unit subtree in a month, laid out in weeks (one query).
    `first_weekday` counts from Sunday = 0, like Django's FIRST_DAY_OF_WEEK."""
    first = month.replace(day=1)
    sessions = list(
        session_list(user=user, unit=unit, month=first)
        .exclude(status=SessionStatus.CANCELLED)
        .order_by("starts_on", "code")
    )
    python_first = (first_weekday - 1) % 7  # Python counts from Monday = 0
    today = timezone.localdate()
    weeks = []
    for week in calendar.Calendar(python_first).monthdatescalendar(first.year, first.month):
        days = []
        for date in week:
            on = [s for s in sessions if s.starts_on <= date <= s.ends_on]
            days.append(CalendarDay(date, date.month == first.month, date == today, on))
        weeks.append(days)
    names = [str(WEEKDAYS_ABBR[(python_first + n) % 7]) for n in range(7)]
    return CalendarMonth(first, unit, names, weeks, sessions)

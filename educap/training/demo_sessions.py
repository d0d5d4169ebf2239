"""Demo training sessions for the demo ministry (see educap/core/demo.py), on top of the demo
catalogue (educap/training/demo_catalogue.py).

Past sessions are completed with attendance, test scores and completions — through the
session services and `completion.enrolment_complete`, so the certificates, CPD records and
training evidence are the real thing; two sessions are running (the trainer persona
facilitates one, in the district persona's district, with today's register half taken);
open sessions have enrolments, a waitlist and a request waiting for the supervisor persona;
one is planned and one was cancelled before anyone enrolled. Sessions are spread over
several governorates and districts, and people are enrolled from the training-needs
analysis where it finds people below requirement.

Deterministic for a seed and a day (dates are relative to `today`); a dozen sessions
whatever the size of the ministry, so it takes a few seconds. Running it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from educap.accounts.models import User
from educap.assessments.consolidation import current_levels_refresh
from educap.assessments.models import Rating, Source
from educap.org.models import OrgUnit
from educap.people.models import Person
from educap.training.models import (
    Certificate,
    Course,
    CourseCompetency,
    CpdRecord,
    Enrolment,
    EnrolmentStatus,
    SessionStatus,
    TrainingSession,
)
from educap.training.services import sessions as services

PREFIX = "DEMO-"
VENUES = ("Training centre", "Directorate meeting room", "Teacher resource centre", "ICT lab")


@dataclass(frozen=True)
class _Spec:
    status: str
    unit: str  # "MOE", "g<i>" (i-th governorate) or "d<i>.<j>" (j-th district of the i-th)
    offset: int  # first day, in days from today
    days: int
    capacity: int
    courses: tuple[str, ...]  # demo catalogue codes, in order of preference
    persona: str = ""  # what the personas do in it


PLAN: tuple[_Spec, ...] = (
    _Spec(SessionStatus.COMPLETED, "d0.0", -40, 3, 20, ("DC-120", "SBM-101"), "staff-completes"),
    _Spec(SessionStatus.COMPLETED, "d0.1", -33, 2, 16, ("DQ-101", "DQ-110")),
    _Spec(SessionStatus.COMPLETED, "d1.0", -26, 3, 20, ("DQ-110", "DC-110")),
    _Spec(SessionStatus.COMPLETED, "g2", -50, 5, 25, ("SA-101", "ME-101")),
    _Spec(SessionStatus.COMPLETED, "MOE", -70, 3, 25, ("RD-101", "EP-101")),
    _Spec(SessionStatus.RUNNING, "d0.0", -1, 4, 20, ("DQ-110", "DQ-101"), "trainer-runs"),
    _Spec(SessionStatus.RUNNING, "g1", -2, 3, 18, ("ICT-120", "ICT-101")),
    _Spec(SessionStatus.OPEN, "d0.0", 9, 2, 12, ("SBM-101", "DC-120", "DP-101"), "team-asks"),
    _Spec(SessionStatus.OPEN, "g0", 16, 3, 10, ("DQ-101", "DC-101")),
    _Spec(SessionStatus.OPEN, "MOE", 24, 1, 40, ("GI-101", "ICT-101", "DP-101"), "staff-enrolled"),
    _Spec(SessionStatus.OPEN, "d1.1", 12, 2, 15, ("DC-110", "DQ-120")),
    _Spec(SessionStatus.PLANNED, "d0.1", 35, 3, 20, ("DQ-120", "SA-101")),
    _Spec(SessionStatus.CANCELLED, "d2.0", 5, 2, 15, ("AD-101", "DC-130")),
)
ZERO = {
    "sessions": 0,
    "enrolments": 0,
    "attendance": 0,
    "completed": 0,
    "not_completed": 0,
    "certificates": 0,
}


class _Units:
    def __init__(self) -> None:
        self.top = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
        self.governorates = list(
            OrgUnit.objects.filter(parent=self.top).order_by("code") if self.top else []
        )
        self._districts: dict[int, list[OrgUnit]] = {}

    def get(self, key: str) -> OrgUnit | None:
        if key == "MOE" or not self.governorates:
            return self.top
        if key.startswith("g"):
            return self.governorates[int(key[1:]) % len(self.governorates)]
        gov, district = (int(n) for n in key[1:].split("."))
        parent = self.governorates[gov % len(self.governorates)]
        if parent.pk not in self._districts:
            self._districts[parent.pk] = list(
                OrgUnit.objects.filter(parent=parent).order_by("code")
            )
        children = self._districts[parent.pk]
        return children[district % len(children)] if children else parent


def _persona(username: str) -> Person | None:
    user = User.objects.filter(username=username).select_related("person").first()
    return user.person if user is not None else None


def _course(spec: _Spec, courses: dict[str, Course], used: set[int], rnd: random.Random) -> Course:
    for code in spec.courses:
        course = courses.get(code)
        if course is not None and course.pk not in used:
            return course
    spare = [c for c in courses.values() if c.pk not in used] or list(courses.values())
    return rnd.choice(sorted(spare, key=lambda c: c.code))


def _needs(session: TrainingSession, unit: OrgUnit) -> Any:
    """The course's competency with the most people below requirement in the unit."""
    best, count = None, 0
    links = CourseCompetency.objects.filter(course=session.course).select_related("item")
    for link in links.order_by("item__code"):
        found = services.people_below_requirement(
            unit=unit, item=link.item, course=session.course
        ).count()
        if found > count:
            best, count = link.item, found
    return best


def _sample(session: TrainingSession, unit: OrgUnit, n: int, rnd: random.Random) -> list[Person]:
    """Active people of the unit subtree in the course's target roles (any role without)."""
    people = Person.objects.filter(is_active=True, unit__path__startswith=unit.path)
    roles = list(session.course.target_roles.values_list("pk", flat=True))
    if roles:
        people = people.filter(role_id__in=roles)
    taken = Enrolment.objects.filter(
        session__course=session.course, status__in=(*services.LIVE, EnrolmentStatus.COMPLETED)
    ).values("person_id")
    ids = sorted(people.exclude(pk__in=taken).values_list("pk", flat=True)[: n * 20])
    chosen = rnd.sample(ids, min(n, len(ids)))
    return list(Person.objects.filter(pk__in=chosen))


def _fill(session: TrainingSession, unit: OrgUnit, rnd: random.Random, *, over: int = 0) -> None:
    """Enrol from the training needs (people below requirement, biggest gap first) where
    there are some, and top up with a sample of the course's target roles: up to capacity,
    plus `over` on the waitlist."""
    wanted = session.capacity + over
    item = _needs(session, unit)
    if item is not None:
        services.enrolment_bulk_from_needs(
            actor=None, session=session, unit=unit, item=item, limit=wanted
        )
    have = Enrolment.objects.filter(session=session).exclude(
        status__in=(EnrolmentStatus.WITHDRAWN, EnrolmentStatus.REJECTED)
    )
    extra = wanted - have.count()
    if extra > 0:
        people = _sample(session, unit, extra, rnd)
        if people:
            services.enrolment_nominate(actor=None, session=session, people=people)


def _register(session: TrainingSession, today: dt.date, rnd: random.Random, keen: set[int]) -> int:
    """Attendance for the days that happened (today: about half the register). People in
    `keen` (person ids: the personas) come every day."""
    rows = list(
        Enrolment.objects.filter(session=session, status=EnrolmentStatus.ENROLLED)
        .order_by("pk")
        .values_list("pk", "person_id")
    )
    seated = [pk for pk, _person in rows]
    # Most people come nearly every day; a few rarely.
    rates = {
        pk: 1.0 if person in keen else (0.4 if rnd.random() < 0.08 else 0.985)
        for pk, person in rows
    }
    marks = 0
    for day in session.days.filter(date__lte=today).order_by("date"):
        who = seated if day.date < today else seated[: len(seated) // 2]
        if who:
            marks += services.attendance_record(
                actor=None,
                session=session,
                day=day,
                marks={pk: rnd.random() < rates[pk] for pk in who},
            )
    return marks


def _scores(session: TrainingSession, rnd: random.Random, keen: set[int]) -> dict[int, int | None]:
    if session.course.pass_mark is None:
        return {}
    seated = Enrolment.objects.filter(session=session, status=EnrolmentStatus.ENROLLED)
    return {
        pk: 90 if person in keen else max(0, min(100, round(rnd.gauss(84, 9))))
        for pk, person in seated.values_list("pk", "person_id")
    }


def demo_sessions_load(*, today: dt.date | None = None, seed: int = 1) -> dict[str, int]:
    """Create the demo sessions (skipped when they exist, or without a catalogue)."""
    counts = dict(ZERO)
    courses = {
        c.code: c
        for c in Course.objects.filter(is_active=True, competencies__isnull=False).distinct()
    }
    if not courses or TrainingSession.objects.filter(code__startswith=PREFIX).exists():
        return counts
    units = _Units()
    if units.top is None:
        return counts
    today = today or timezone.localdate()
    # Demo data, not secrets: a seeded PRNG keeps the demo the same for a seed.
    rnd = random.Random(f"educap-demo:{seed}:sessions")  # noqa: S311
    staff, supervisor, trainer = _persona("staff"), _persona("supervisor"), _persona("trainer")
    keen = {p.pk for p in (staff,) if p is not None}
    used: dict[int, set[int]] = {}
    with transaction.atomic():
        for n, spec in enumerate(PLAN):
            unit = units.get(spec.unit)
            if unit is None:
                continue
            course = _course(spec, courses, used.setdefault(unit.pk, set()), rnd)
            used[unit.pk].add(course.pk)
            starts_on = today + dt.timedelta(days=spec.offset)
            session = services.session_create(
                actor=None,
                course=course,
                unit=unit,
                code=f"{PREFIX}{course.code}-{unit.code}"[:60],
                starts_on=starts_on,
                ends_on=starts_on + dt.timedelta(days=spec.days - 1),
                capacity=spec.capacity,
                venue=VENUES[n % len(VENUES)],
                requires_approval=True,
                facilitators=[trainer] if trainer and spec.persona == "trainer-runs" else [],
            )
            counts["sessions"] += 1
            if spec.status == SessionStatus.PLANNED:
                _fill(session, unit, rnd)
                continue
            session = services.session_transition(
                actor=None, session=session, status=SessionStatus.OPEN
            )
            if spec.status == SessionStatus.CANCELLED:
                # Called off before anyone enrolled (so nobody is e-mailed while seeding).
                services.session_transition(
                    actor=None, session=session, status=SessionStatus.CANCELLED
                )
                continue
            _persona_story(spec, session, staff, supervisor)
            _fill(session, unit, rnd, over=3 if spec.status == SessionStatus.OPEN else 0)
            if spec.status == SessionStatus.OPEN:
                continue
            session = services.session_transition(
                actor=None, session=session, status=SessionStatus.RUNNING
            )
            counts["attendance"] += _register(session, today, rnd, keen)
            if spec.status == SessionStatus.COMPLETED:
                result = services.session_complete(
                    actor=None,
                    session=session,
                    scores=_scores(session, rnd, keen),
                    completed_on=session.ends_on,
                    actual_cost=(session.planned_cost * Decimal(rnd.uniform(0.8, 1.1))).quantize(
                        Decimal("0.01")
                    ),
                )
                counts["completed"] += len(result.completed)
                counts["not_completed"] += len(result.not_completed)
                counts["certificates"] += len(result.certificates)
        demo_ids = TrainingSession.objects.filter(code__startswith=PREFIX).values("pk")
        counts["enrolments"] = Enrolment.objects.filter(session_id__in=demo_ids).count()
    return counts


def _persona_story(
    spec: _Spec, session: TrainingSession, staff: Person | None, supervisor: Person | None
) -> None:
    """Put the demo personas where their screens have something to show."""
    if staff is not None and spec.persona in ("staff-completes", "staff-enrolled"):
        services.enrolment_nominate(actor=None, session=session, people=[staff])
    if spec.persona == "team-asks" and supervisor is not None:
        # A team member (not the staff persona, who may ask for a place themself) asks.
        team = Person.objects.filter(supervisor=supervisor, is_active=True)
        if staff is not None:
            team = team.exclude(pk=staff.pk)
        for member in team.select_related("unit").order_by("staff_number")[:3]:
            if services.session_open_to(session=session, person=member):
                services.enrolment_request(actor=None, session=session, person=member)
                break


def demo_sessions_wipe() -> None:
    """Delete the demo sessions and what their completions wrote: enrolments, attendance,
    certificates, CPD records and the training evidence (then the current levels of the
    people concerned are recomputed)."""
    sessions = TrainingSession.objects.filter(code__startswith=PREFIX)
    if not sessions.exists():
        return
    enrolments = Enrolment.objects.filter(session__in=sessions)
    people = set(enrolments.values_list("person_id", flat=True))
    with transaction.atomic():
        Certificate.objects.filter(enrolment__in=enrolments).delete()
        CpdRecord.objects.filter(enrolment__in=enrolments).delete()
        # enrolment_complete comments its evidence "COURSE / SESSION".
        Rating.objects.filter(source=Source.TRAINING, comment__contains=f" / {PREFIX}").delete()
        sessions.delete()
        current_levels_refresh(person_ids=people)

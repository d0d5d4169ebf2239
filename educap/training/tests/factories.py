"""Training set-ups for tests, built on the mini ministry (educap.core.testing)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from educap.frameworks.models import Framework
from educap.org.models import OrgUnit
from educap.people.models import Person
from educap.training.models import (
    Course,
    CourseCompetency,
    Enrolment,
    EnrolmentRoute,
    EnrolmentStatus,
    SessionDay,
    SessionStatus,
    TrainingSession,
)


def make_course(
    code: str = "C-DQ1", *, framework: Framework | None = None, **fields: Any
) -> Course:
    """A face-to-face course of 12 hours; with a framework, it develops D1.1 and D1.2 to 3."""
    defaults: dict[str, Any] = {
        "title": f"Course {code}",
        "title_ar": f"دورة {code}",
        "duration_hours": Decimal(12),
        "cpd_credits": Decimal("1.5"),
        "cost_per_cohort": Decimal(500),
        "cost_per_participant": Decimal(40),
    }
    course = Course.objects.create(code=code, **{**defaults, **fields})
    if framework is not None:
        for item in framework.items.filter(code__in=["D1.1", "D1.2"]):
            CourseCompetency.objects.create(course=course, item=item, level=3)
    return course


def make_session(
    course: Course,
    unit: OrgUnit,
    *,
    code: str = "S-1",
    starts_on: dt.date = dt.date(2026, 3, 2),
    days: int = 2,
    capacity: int = 20,
    status: str = SessionStatus.OPEN,
    **fields: Any,
) -> TrainingSession:
    """A session with one schedule row per day."""
    session = TrainingSession.objects.create(
        code=code,
        course=course,
        unit=unit,
        starts_on=starts_on,
        ends_on=starts_on + dt.timedelta(days=days - 1),
        capacity=capacity,
        status=status,
        venue="Training centre",
        **fields,
    )
    SessionDay.objects.bulk_create(
        SessionDay(session=session, date=starts_on + dt.timedelta(days=d)) for d in range(days)
    )
    return session


def make_enrolment(
    session: TrainingSession,
    person: Person,
    *,
    status: str = EnrolmentStatus.ENROLLED,
    route: str = EnrolmentRoute.NOMINATED,
) -> Enrolment:
    return Enrolment.objects.create(session=session, person=person, status=status, route=route)

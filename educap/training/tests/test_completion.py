"""The shared completion service: one completion, all its effects."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from educap.assessments.models import CurrentLevel, Rating, Source
from educap.assessments.tests.factories import make_published_framework
from educap.core.testing import MiniMinistry
from educap.gaps.engine import gaps_rebuild
from educap.gaps.models import OWN_SCOPES, UnitGap
from educap.training.models import CpdRecord, CpdStatus, EnrolmentStatus
from educap.training.services.completion import enrolment_complete
from educap.training.tests.factories import make_course, make_enrolment, make_session


@pytest.fixture
def setup(ministry: MiniMinistry) -> tuple:
    framework = make_published_framework()
    course = make_course(framework=framework, records_evidence=True)
    session = make_session(course, ministry.units["G1D1"])
    person = ministry.people["g1d1_officer"]
    gaps_rebuild()
    return framework, course, session, person


def test_completion_writes_cpd_certificate_and_evidence(
    ministry: MiniMinistry, setup: tuple, django_capture_on_commit_callbacks: Any
) -> None:
    _framework, course, session, person = setup
    enrolment = make_enrolment(session, person)
    before = UnitGap.objects.filter(unit=ministry.units["G1D1"], scope__in=OWN_SCOPES).values_list(
        "meeting", flat=True
    )
    assert sum(before) == 0

    with django_capture_on_commit_callbacks(execute=True):
        certificate = enrolment_complete(
            actor=ministry.users["admin"], enrolment=enrolment, completed_on=dt.date(2026, 3, 3),
            attendance_percent=100,
        )  # fmt: skip

    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.COMPLETED
    assert enrolment.passed
    assert certificate.holder_name == f"{person.given_name} {person.family_name}"
    assert certificate.is_valid
    assert certificate.hours == course.duration_hours
    cpd = CpdRecord.objects.get(enrolment=enrolment)
    assert cpd.status == CpdStatus.APPROVED
    assert cpd.hours == course.duration_hours
    ratings = Rating.objects.filter(person=person, source=Source.TRAINING)
    assert sorted(ratings.values_list("item__code", "value")) == [("D1.1", 3), ("D1.2", 3)]
    levels = dict(CurrentLevel.objects.filter(person=person).values_list("item__code", "value"))
    assert levels == {"D1.1": 3, "D1.2": 3}
    # The gap rollups followed (tasks run immediately in tests): D1.1 (needs 2) and D1.2
    # (needs 3) are now met by the officer.
    after = UnitGap.objects.filter(
        unit=ministry.units["G1D1"], scope__in=OWN_SCOPES, item__code__in=["D1.1", "D1.2"]
    ).values_list("meeting", flat=True)
    assert sum(after) == 2


def test_completing_twice_is_refused(ministry: MiniMinistry, setup: tuple) -> None:
    _, _, session, person = setup
    enrolment = make_enrolment(session, person)
    enrolment_complete(actor=None, enrolment=enrolment, completed_on=dt.date(2026, 3, 3))
    with pytest.raises(ValidationError) as error:
        enrolment_complete(actor=None, enrolment=enrolment, completed_on=dt.date(2026, 3, 3))
    assert error.value.code == "enrolment_already_completed"


def test_waitlisted_cannot_complete(ministry: MiniMinistry, setup: tuple) -> None:
    _, _, session, person = setup
    enrolment = make_enrolment(session, person, status=EnrolmentStatus.WAITLISTED)
    with pytest.raises(ValidationError) as error:
        enrolment_complete(actor=None, enrolment=enrolment, completed_on=dt.date(2026, 3, 3))
    assert error.value.code == "enrolment_not_seated"
    assert not CpdRecord.objects.exists()


def test_course_without_evidence_records_none(ministry: MiniMinistry) -> None:
    framework = make_published_framework()
    course = make_course("C-X", framework=framework, records_evidence=False)
    session = make_session(course, ministry.units["G1D1"])
    enrolment = make_enrolment(session, ministry.people["g1d1_officer"])
    enrolment_complete(actor=None, enrolment=enrolment, completed_on=dt.date(2026, 3, 3))
    assert not Rating.objects.filter(source=Source.TRAINING).exists()


def test_training_evidence_never_lowers_a_level(ministry: MiniMinistry) -> None:
    from django.utils import timezone

    framework = make_published_framework()
    course = make_course("C-LOW", framework=framework, records_evidence=True)  # D1.1, D1.2 → 3
    person = ministry.people["g1d1_officer"]
    d11 = framework.items.get(code="D1.1")
    Rating.objects.create(
        person=person, item=d11, source=Source.SUPERVISOR, value=4, rated_at=timezone.now()
    )
    from educap.assessments.consolidation import current_levels_refresh

    current_levels_refresh(person_ids=[person.pk])
    session = make_session(course, ministry.units["G1D1"])
    enrolment_complete(
        actor=None, enrolment=make_enrolment(session, person), completed_on=dt.date(2026, 3, 3)
    )
    # D1.1 stays at the supervisor's 4; D1.2, not assessed before, reaches the course's 3.
    levels = dict(CurrentLevel.objects.filter(person=person).values_list("item__code", "value"))
    assert levels == {"D1.1": 4, "D1.2": 3}
    assert list(
        Rating.objects.filter(person=person, source=Source.TRAINING).values_list(
            "item__code", flat=True
        )
    ) == ["D1.2"]

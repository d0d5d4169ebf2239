"""The demo sessions on top of the demo ministry and catalogue: every status, the personas'
stories, completions with certificates and CPD, determinism and idempotence."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from educap.accounts.models import User
from educap.assessments.consolidation import current_levels_rebuild
from educap.assessments.models import Rating, Source
from educap.frameworks.emis import emis_framework_install
from educap.training.demo_catalogue import demo_catalogue_load
from educap.training.demo_sessions import PREFIX, ZERO, demo_sessions_load
from educap.training.models import (
    Certificate,
    CpdRecord,
    Enrolment,
    EnrolmentStatus,
    SessionStatus,
    TrainingSession,
)
from educap.training.selectors import sessions as selectors

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 18)


@pytest.fixture
def ministry_demo(db: None) -> None:
    call_command("seed_demo", "--staff", "300", "--quiet", "--no-campaigns", stdout=io.StringIO())


def test_without_a_catalogue_nothing_happens(ministry_demo: None) -> None:
    assert demo_sessions_load(today=TODAY) == ZERO
    assert not TrainingSession.objects.exists()


def _snapshot() -> list[tuple]:
    return sorted(
        Enrolment.objects.filter(session__code__startswith=PREFIX).values_list(
            "session__code", "person__staff_number", "status", "attendance_percent", "score"
        )
    )


def test_sessions_in_every_status_with_the_personas_stories(ministry_demo: None) -> None:
    demo_catalogue_load(framework=emis_framework_install())
    counts = demo_sessions_load(today=TODAY, seed=3)
    assert counts["sessions"] == 13
    assert counts["completed"] > 0
    assert counts["certificates"] == counts["completed"]
    statuses = set(TrainingSession.objects.values_list("status", flat=True))
    assert statuses == set(SessionStatus.values)
    governorates = {
        s.unit.path.split("/")[1] for s in TrainingSession.objects.all() if s.unit.depth
    }
    assert len(governorates) >= 2
    assert Enrolment.objects.filter(status=EnrolmentStatus.WAITLISTED).exists()
    assert CpdRecord.objects.filter(enrolment__isnull=False).count() == counts["completed"]
    # The staff persona completed one session (certificate) and is enrolled in an open one.
    staff = User.objects.get(username="staff")
    mine = {e.status for e in selectors.my_enrolments(user=staff)}
    assert {EnrolmentStatus.COMPLETED, EnrolmentStatus.ENROLLED} <= mine
    assert Certificate.objects.filter(person=staff.person).exists()
    # The supervisor persona has a request to decide; the trainer a session to run.
    assert selectors.pending_approvals(user=User.objects.get(username="supervisor")).exists()
    trainer = User.objects.get(username="trainer")
    running = TrainingSession.objects.get(status=SessionStatus.RUNNING, facilitators=trainer.person)
    grid = selectors.attendance_grid(session=running)
    assert any(row.marks for row in grid.rows)
    # Again: nothing more.
    assert demo_sessions_load(today=TODAY, seed=3) == ZERO


def test_same_seed_same_sessions(ministry_demo: None) -> None:
    demo_catalogue_load(framework=emis_framework_install())
    demo_sessions_load(today=TODAY, seed=5)
    first = _snapshot()
    # Back to the same start: no session, and no evidence from their completions.
    Certificate.objects.all().delete()
    CpdRecord.objects.all().delete()
    TrainingSession.objects.all().delete()
    Rating.objects.filter(source=Source.TRAINING).delete()
    current_levels_rebuild()
    demo_sessions_load(today=TODAY, seed=5)
    assert _snapshot() == first


def test_wipe_removes_the_sessions_and_their_effects(ministry_demo: None) -> None:
    from educap.training.demo_sessions import demo_sessions_wipe

    demo_catalogue_load(framework=emis_framework_install())
    demo_sessions_load(today=TODAY)
    assert Rating.objects.filter(source=Source.TRAINING).exists()
    demo_sessions_wipe()
    assert not TrainingSession.objects.exists()
    assert not Enrolment.objects.exists()
    assert not Certificate.objects.exists()
    assert not CpdRecord.objects.filter(kind="internal").exists()
    assert not Rating.objects.filter(source=Source.TRAINING).exists()

"""The demo CPD loader: deterministic, bulk, and with a story for the demo personas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from educap.core.testing import MiniMinistry, make_person
from educap.training.demo_cpd import demo_cpd_load
from educap.training.models import CpdKind, CpdRecord, CpdRequirement, CpdStatus
from educap.training.services.cpd import evidence_sniff

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 5, 20)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _snapshot() -> list[tuple[Any, ...]]:
    return list(
        CpdRecord.objects.order_by("person_id", "completed_on", "title", "pk").values_list(
            "person_id", "kind", "title", "completed_on", "hours", "credits", "status"
        )
    )


@pytest.fixture
def grown(ministry: MiniMinistry) -> MiniMinistry:
    """A few dozen more staff so that every outcome shows up."""
    roles = [ministry.people[k].role for k in ("g1d1_teacher", "g1d1_head", "central")]
    for n in range(60):
        make_person(ministry.units["G1D2S1"], roles[n % 3], sex="FM"[n % 2])
    return ministry


def test_demo_is_deterministic_and_bulk(grown, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(20):
        created = demo_cpd_load(seed=3, today=TODAY)
    assert created == CpdRecord.objects.count() > 30
    first = _snapshot()
    assert {s for *_, s in first} == {CpdStatus.APPROVED, CpdStatus.PENDING, CpdStatus.REJECTED}
    assert all(dt.date(TODAY.year - 1, 1, 1) <= row[3] < TODAY for row in first)
    assert not CpdRecord.objects.filter(kind=CpdKind.INTERNAL).exists()
    assert not CpdRecord.objects.filter(hours=0, credits=0).exists()
    assert CpdRecord.objects.filter(status=CpdStatus.REJECTED).exclude(decision_note="").exists()
    # Running again adds nothing; the same seed on a fresh start gives the same records.
    assert demo_cpd_load(seed=3, today=TODAY) == 0
    CpdRecord.objects.all().delete()
    demo_cpd_load(seed=3, today=TODAY)
    assert _snapshot() == first
    CpdRecord.objects.all().delete()
    demo_cpd_load(seed=4, today=TODAY)
    assert _snapshot() != first


def test_requirements_for_this_and_last_year(ministry) -> None:
    demo_cpd_load(today=TODAY)
    demo_cpd_load(today=TODAY)
    requirements = CpdRequirement.objects.select_related("role")
    assert {(r.role.code, r.year) for r in requirements} == {
        (code, year)
        for code in ("teacher", "head_teacher", "emis_officer")
        for year in (2025, 2026)
    }
    emis = requirements.get(role__code="emis_officer", year=2026)
    assert (emis.hours, emis.credits) == (30, 2)


def test_the_personas_get_a_story(ministry) -> None:
    p = ministry.people
    # The mini ministry's teacher and head play the demo's staff and supervisor personas.
    for old, new in (("teacher", "staff"), ("head", "supervisor")):
        ministry.users[old].username = new
        ministry.users[old].save(update_fields=["username"])
    demo_cpd_load(today=TODAY)
    mine = CpdRecord.objects.filter(person=p["g1d1_teacher"], completed_on__year=2026)
    assert {r.status for r in mine} == {CpdStatus.APPROVED, CpdStatus.PENDING}
    waiting = mine.get(status=CpdStatus.PENDING)
    assert waiting.kind == CpdKind.WEBINAR
    # The supervisor has the teacher's record to decide, with a real PDF as evidence.
    assert evidence_sniff(waiting.evidence.read()) is not None

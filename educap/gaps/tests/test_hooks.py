"""Changes of staff, units and role profiles reach the stored rollups (through the task
queue, after commit), and leave them exactly as a full rebuild would."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from educap.assessments.consolidation import current_levels_rebuild
from educap.assessments.models import Rating
from educap.assessments.tests.factories import make_published_framework
from educap.core.testing import MiniMinistry
from educap.frameworks.models import Framework, FrameworkItem, ScaleLevel
from educap.frameworks.services import (
    framework_new_version,
    framework_publish,
    framework_retire,
    requirement_set,
)
from educap.gaps.engine import gaps_rebuild
from educap.gaps.models import SUBTREE_SCOPES, UnitGap
from educap.org.importing import orgunit_import_apply, orgunit_import_plan
from educap.org.io.records import UnitRecord
from educap.org.services import orgunit_close, orgunit_move
from educap.people.importing import staff_import_apply, staff_import_plan
from educap.people.io.staff import StaffRecord
from educap.people.models import Role
from educap.people.services import assignment_start, person_create, person_update

pytestmark = pytest.mark.django_db

FIELDS = [f.attname for f in UnitGap._meta.concrete_fields if f.attname != "id"]


def snapshot() -> set[tuple[Any, ...]]:
    return set(UnitGap.objects.values_list(*FIELDS))


def rebuilt() -> set[tuple[Any, ...]]:
    gaps_rebuild()
    return snapshot()


@pytest.fixture
def rated(ministry: MiniMinistry) -> Framework:
    framework = make_published_framework()
    items = {i.code: i for i in FrameworkItem.objects.filter(framework=framework)}
    now = timezone.now()
    for n, person in enumerate(ministry.people.values()):
        for code in ("D1.1", "D1.2", "D2.1", "D2.2"):
            Rating.objects.create(
                person=person, item=items[code], source="supervisor", value=1 + n % 4, rated_at=now
            )
    current_levels_rebuild()
    gaps_rebuild()
    return framework


def national(ministry: MiniMinistry) -> int:
    return sum(
        UnitGap.objects.filter(scope__in=SUBTREE_SCOPES, unit=ministry.units["MOE"]).values_list(
            "in_scope", flat=True
        )
    )


def test_a_move_to_another_unit_updates_old_and_new_chains(
    ministry, rated, django_capture_on_commit_callbacks
):
    teacher = ministry.people["g1d1_teacher"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assignment_start(
            actor=ministry.users["admin"],
            person=teacher,
            unit=ministry.units["G2D1S1"],
            role=Role.objects.get(code="head_teacher"),
            start_date=timezone.localdate() - dt.timedelta(days=1),
        )
    assert callbacks
    g1 = UnitGap.objects.filter(
        scope__in=SUBTREE_SCOPES, unit=ministry.units["G1"], role=teacher.role
    )
    assert not g1.filter(sex="M").exists()  # the only male teacher of G1 left
    assert snapshot() == rebuilt()


def test_a_new_person_is_counted(ministry, rated, django_capture_on_commit_callbacks):
    before = national(ministry)
    with django_capture_on_commit_callbacks(execute=True):
        person_create(
            actor=ministry.users["admin"],
            unit=ministry.units["G2D2S1"],
            role=Role.objects.get(code="teacher"),
            start_date=timezone.localdate() - dt.timedelta(days=1),
            staff_number="NEW-1",
            given_name="Nour",
            family_name="Saleh",
            sex="F",
        )
    assert national(ministry) == before + 1  # teachers need one competency
    assert snapshot() == rebuilt()


@pytest.mark.parametrize("fields", [{"sex": "F"}, {"is_active": False}])
def test_a_change_of_sex_or_activity(ministry, rated, django_capture_on_commit_callbacks, fields):
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        person_update(
            actor=ministry.users["admin"], person=ministry.people["g1d1_officer"], **fields
        )
    after = snapshot()
    assert after != before
    assert after == rebuilt()


def test_a_staff_import_moving_and_adding_people(
    ministry, rated, django_capture_on_commit_callbacks
):
    teacher = ministry.people["g1d2_teacher"]
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    records = [
        StaffRecord(
            staff_number=teacher.staff_number,
            given_name=teacher.given_name,
            family_name=teacher.family_name,
            sex="M",
            unit_code="G2D2S1",
            role_code="teacher",
            start_date=yesterday,
            row=2,
        ),
        StaffRecord(
            staff_number="NEW-2",
            given_name="Rami",
            family_name="Aziz",
            sex="M",
            unit_code="G1D1",
            role_code="emis_officer",
            start_date=yesterday,
            row=3,
        ),
    ]
    plan = staff_import_plan(actor=None, records=records)
    assert plan.problems == []
    with django_capture_on_commit_callbacks(execute=True):
        staff_import_apply(actor=None, plan=plan)
    assert not UnitGap.objects.filter(unit=ministry.units["G1D2S1"]).exists()
    assert snapshot() == rebuilt()


def test_a_unit_move(ministry, rated, django_capture_on_commit_callbacks):
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        orgunit_move(
            actor=ministry.users["admin"],
            unit=ministry.units["G1D1"],
            new_parent=ministry.units["G2"],
        )
    after = snapshot()
    assert after != before
    assert after == rebuilt()


def test_a_unit_move_by_import(ministry, rated, django_capture_on_commit_callbacks):
    plan = orgunit_import_plan(
        records=[UnitRecord(row=2, code="G2D1", name="District G2D1", parent_code="G1")]
    )
    assert plan.problems == []
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        orgunit_import_apply(actor=ministry.users["admin"], plan=plan)
    after = snapshot()
    assert after != before
    assert after == rebuilt()


def test_a_unit_closure_leaves_consistent_rollups(
    ministry, rated, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        orgunit_close(
            actor=ministry.users["admin"],
            unit=ministry.units["G1D2S1"],
            closed_on=timezone.localdate(),
        )
    assert snapshot() == rebuilt()


def test_retiring_the_framework_empties_its_rollups(
    ministry, rated, django_capture_on_commit_callbacks
):
    assert UnitGap.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        framework_retire(actor=ministry.users["admin"], framework=rated)
    assert not UnitGap.objects.exists()
    assert snapshot() == rebuilt()


def test_a_new_version_counts_once_published(ministry, rated, django_capture_on_commit_callbacks):
    admin = ministry.users["admin"]
    with django_capture_on_commit_callbacks(execute=True):
        draft = framework_new_version(actor=admin, framework=rated, version="2.0")
    profile = draft.profiles.get(code="teacher")
    item = draft.items.get(code="D2.2")
    level = ScaleLevel.objects.get(scale=draft.scale, value=4)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        requirement_set(actor=admin, profile=profile, item=item, level=level, weight=3)
    assert callbacks == []  # a draft requires nothing yet
    assert snapshot() == before
    with django_capture_on_commit_callbacks(execute=True):
        framework_publish(actor=admin, framework=draft)
    teachers = UnitGap.objects.filter(item=item, role=profile.role, scope__in=SUBTREE_SCOPES)
    assert teachers.exists()
    assert snapshot() == rebuilt()

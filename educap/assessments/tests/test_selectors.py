"""Selectors added for the web screens."""

from __future__ import annotations

import pytest

from educap.assessments.models import AssignmentKind, RaterAssignment
from educap.assessments.selectors import (
    assignment_competencies,
    launch_preview,
    peer_choices,
    peer_pool,
    progress_start_unit,
    team_assignments,
    team_grid,
)
from educap.assessments.services import Answer, assignment_submit, campaign_launch, draft_save
from educap.assessments.tests.factories import make_campaign
from educap.core.testing import make_person
from educap.people.models import Role

pytestmark = pytest.mark.django_db


def test_launch_preview_counts_people_and_missing_profiles(ministry):
    campaign = make_campaign(ministry)
    preview = launch_preview(campaign=campaign)
    assert preview.people == 8
    assert preview.without_profile == 0
    make_person(ministry.units["G2D1S1"], Role.objects.create(code="driver", name="Driver"))
    assert launch_preview(campaign=campaign).without_profile == 1
    assert preview.kinds == ["self", "supervisor"]


def test_team_grid_unions_columns_and_marks_complete_rows(ministry):
    campaign = make_campaign(ministry, supervisor_sees_self=True)
    head = ministry.people["g1d1_head"]
    extra = make_person(ministry.units["G1D1S1"], ministry.people["central"].role, head)
    campaign_launch(actor=None, campaign=campaign)
    team = list(team_assignments(user=ministry.users["head"], campaign=campaign))
    assert {a.ratee_id for a in team} == {ministry.people["g1d1_teacher"].pk, extra.pk}
    teacher_self = RaterAssignment.objects.get(
        ratee=ministry.people["g1d1_teacher"], kind=AssignmentKind.SELF
    )
    assignment_submit(
        actor=None,
        assignment=teacher_self,
        answers=[Answer(c.item.pk, 1) for c in assignment_competencies(assignment=teacher_self)],
    )
    teacher_row = next(a for a in team if a.ratee_id == ministry.people["g1d1_teacher"].pk)
    draft_save(
        actor=None,
        assignment=teacher_row,
        answers=[Answer(c.item.pk, 2) for c in assignment_competencies(assignment=teacher_row)],
    )
    columns, rows = team_grid(assignments=team)
    # Teachers need D1.1; EMIS officers D1.1, D1.2, D2.1.
    assert [c.item.code for c in columns] == ["D1.1", "D1.2", "D2.1"]
    by_ratee = {r.assignment.ratee_id: r for r in rows}
    teacher = by_ratee[ministry.people["g1d1_teacher"].pk]
    assert teacher.complete
    assert [cell is not None for _c, cell in teacher.ordered] == [True, False, False]
    assert teacher.ordered[0][1].self_rating.value == 1
    assert not by_ratee[extra.pk].complete
    assert by_ratee[extra.pk].answered == 0


def test_peer_choices_follow_the_chooser(ministry):
    campaign = make_campaign(ministry, collect_peer=True)
    campaign_launch(actor=None, campaign=campaign)
    teacher = ministry.people["g1d1_teacher"]
    assert [c.ratee.pk for c in peer_choices(user=ministry.users["teacher"])] == [teacher.pk]
    assert peer_choices(user=ministry.users["head"])[0].ratee.pk == ministry.users["head"].person_id
    campaign.peer_chooser = "supervisor"
    campaign.save()
    assert peer_choices(user=ministry.users["teacher"]) == []
    assert [c.ratee.pk for c in peer_choices(user=ministry.users["head"])] == [teacher.pk]


def test_peer_pool_excludes_the_person_and_supervisor(ministry):
    teacher = ministry.people["g1d1_teacher"]
    pool = set(peer_pool(user=ministry.users["teacher"], ratee=teacher))
    assert teacher not in pool
    assert ministry.people["g1d1_head"] not in pool
    wide = set(peer_pool(user=ministry.users["gov1"], ratee=teacher, whole_scope=True))
    assert ministry.people["g1d1_officer"] in wide
    assert ministry.people["g2d1_teacher"] not in wide


def test_progress_start_unit(ministry):
    assert progress_start_unit(user=ministry.users["central"]) is None
    assert progress_start_unit(user=ministry.users["dist"]) == ministry.units["G1D1"]
    assert progress_start_unit(user=ministry.users["partner"]) == ministry.units["G2"]
    assert progress_start_unit(user=ministry.users["teacher"]) is None

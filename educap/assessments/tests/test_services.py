from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    CampaignStatus,
    CurrentLevel,
    RaterAssignment,
    Rating,
)
from educap.assessments.selectors import assignment_competencies, campaign_progress
from educap.assessments.services import (
    Answer,
    AssessmentErrorCode,
    assignment_submit,
    campaign_close,
    campaign_launch,
    campaign_remind,
    draft_save,
    peers_nominate,
)
from educap.assessments.tests.factories import make_campaign
from educap.frameworks.models import FrameworkStatus

pytestmark = pytest.mark.django_db


def test_launch_creates_assignments_from_role_profiles(ministry):
    campaign = make_campaign(ministry)
    result = campaign_launch(actor=ministry.users["central"], campaign=campaign)
    assert result.people == 8
    # central and g1_officer, g2d1_head, g1d2_teacher have no supervisor
    assert result.without_supervisor == 4
    assert result.assignments == 8 + 4
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.OPEN
    teacher = ministry.people["g1d1_teacher"]
    kinds = set(RaterAssignment.objects.filter(ratee=teacher).values_list("kind", "rater_id"))
    assert kinds == {
        (AssignmentKind.SELF, teacher.pk),
        (AssignmentKind.SUPERVISOR, ministry.people["g1d1_head"].pk),
    }


def test_only_managers_launch(ministry):
    campaign = make_campaign(ministry)
    with pytest.raises(PermissionDenied):
        campaign_launch(actor=ministry.users["teacher"], campaign=campaign)


def test_launch_refuses_a_target_nobody_matches(ministry):
    campaign = make_campaign(ministry)
    campaign.target_roles.set([])
    campaign.target_units.set([])
    from educap.people.models import Role

    campaign.target_roles.set([Role.objects.create(code="nobody", name="Nobody")])
    with pytest.raises(ValidationError) as err:
        campaign_launch(actor=None, campaign=campaign)
    assert err.value.code == AssessmentErrorCode.NO_TARGET


def test_competencies_follow_the_profile_with_inheritance(ministry):
    campaign = make_campaign(ministry)
    campaign_launch(actor=None, campaign=campaign)
    officer = RaterAssignment.objects.get(
        ratee=ministry.people["g1d1_officer"], kind=AssignmentKind.SELF
    )
    codes = [c.item.code for c in assignment_competencies(assignment=officer)]
    assert codes == ["D1.1", "D1.2", "D2.1"]


def _answer_all(assignment, value):
    return [Answer(c.item.pk, value) for c in assignment_competencies(assignment=assignment)]


def test_self_then_supervisor_sets_current_level(ministry):
    campaign = make_campaign(ministry)
    campaign_launch(actor=None, campaign=campaign)
    teacher = ministry.people["g1d1_teacher"]
    own = RaterAssignment.objects.get(ratee=teacher, kind=AssignmentKind.SELF)
    draft_save(actor=ministry.users["teacher"], assignment=own, answers=_answer_all(own, 4))
    own.refresh_from_db()
    assert own.status == AssignmentStatus.STARTED
    assert not Rating.objects.exists()  # drafts are not evidence
    assignment_submit(actor=ministry.users["teacher"], assignment=own)
    level = CurrentLevel.objects.get(person=teacher)
    assert (level.value, level.source) == (4, "self")

    boss = RaterAssignment.objects.get(ratee=teacher, kind=AssignmentKind.SUPERVISOR)
    assignment_submit(actor=ministry.users["head"], assignment=boss, answers=_answer_all(boss, 2))
    level = CurrentLevel.objects.get(person=teacher)
    assert (level.value, level.source) == (2, "supervisor")
    assert Rating.objects.filter(person=teacher).count() == 2  # nothing overwritten


def test_submit_needs_every_competency_and_the_rater(ministry):
    campaign = make_campaign(ministry)
    campaign_launch(actor=None, campaign=campaign)
    officer = ministry.people["g1d1_officer"]
    own = RaterAssignment.objects.get(ratee=officer, kind=AssignmentKind.SELF)
    with pytest.raises(PermissionDenied):
        draft_save(actor=ministry.users["teacher"], assignment=own, answers=[])
    first = assignment_competencies(assignment=own)[0]
    draft_save(actor=ministry.users["dist"], assignment=own, answers=[Answer(first.item.pk, 3)])
    with pytest.raises(ValidationError) as err:
        assignment_submit(actor=ministry.users["dist"], assignment=own)
    assert err.value.code == AssessmentErrorCode.INCOMPLETE
    with pytest.raises(ValidationError) as err:
        draft_save(actor=ministry.users["dist"], assignment=own, answers=[Answer(first.item.pk, 9)])
    assert err.value.error_dict["level"][0].code == AssessmentErrorCode.LEVEL_NOT_ON_SCALE


def test_closed_campaign_takes_no_answers(ministry):
    campaign = make_campaign(ministry)
    campaign_launch(actor=None, campaign=campaign)
    campaign_close(actor=None, campaign=campaign)
    own = RaterAssignment.objects.get(ratee=ministry.people["g1d1_teacher"], kind="self")
    with pytest.raises(ValidationError) as err:
        assignment_submit(actor=None, assignment=own, answers=_answer_all(own, 3))
    assert err.value.code == AssessmentErrorCode.ASSIGNMENT_CLOSED


def test_draft_framework_cannot_be_assessed(ministry):
    campaign = make_campaign(ministry)
    campaign.framework.status = FrameworkStatus.DRAFT
    campaign.framework.save()
    with pytest.raises(ValidationError):
        campaign_launch(actor=None, campaign=campaign)


def test_progress_rolls_up_and_puts_laggards_first(ministry):
    campaign = make_campaign(ministry)
    campaign_launch(actor=None, campaign=campaign)
    own = RaterAssignment.objects.get(ratee=ministry.people["g1d1_teacher"], kind="self")
    assignment_submit(actor=None, assignment=own, answers=_answer_all(own, 3))
    total, rows = campaign_progress(user=ministry.users["central"], campaign=campaign)
    assert (total.invited, total.submitted) == (12, 1)
    assert [r.unit.code for r in rows] == ["MOE"]
    total, rows = campaign_progress(
        user=ministry.users["central"], campaign=campaign, unit=ministry.units["MOE"]
    )
    assert [r.unit.code for r in rows] == ["G2", "G1"]
    assert rows[1].submitted == 1
    assert rows[1].by_kind["self"] == [5, 1]
    with pytest.raises(PermissionDenied):
        campaign_progress(user=ministry.users["teacher"], campaign=campaign)


def test_reminders_go_to_raters_with_open_work(ministry):
    ministry.people["g1d1_teacher"].email = "t@example.org"
    ministry.people["g1d1_teacher"].save()
    campaign = make_campaign(ministry)
    campaign_launch(actor=None, campaign=campaign)
    sent = campaign_remind(actor=None, campaign=campaign)
    assert sent == 1
    assert mail.outbox[0].to == ["t@example.org"]
    assert campaign.title in mail.outbox[0].subject


def test_peers_are_named_by_the_person(ministry):
    campaign = make_campaign(ministry, collect_peer=True, peer_count=2)
    campaign_launch(actor=None, campaign=campaign)
    teacher = ministry.people["g1d1_teacher"]
    created = peers_nominate(
        actor=ministry.users["teacher"],
        campaign=campaign,
        ratee=teacher,
        peers=[ministry.people["g1d2_teacher"]],
    )
    assert len(created) == 1
    assert created[0].kind == AssignmentKind.PEER
    with pytest.raises(ValidationError):
        peers_nominate(
            actor=ministry.users["teacher"],
            campaign=campaign,
            ratee=teacher,
            peers=[ministry.people["g1d1_head"]],
        )
    with pytest.raises(PermissionDenied):
        peers_nominate(
            actor=ministry.users["head"],
            campaign=campaign,
            ratee=teacher,
            peers=[ministry.people["central"]],
        )

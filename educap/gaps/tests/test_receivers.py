from __future__ import annotations

import pytest

from educap.assessments.models import AssignmentKind, RaterAssignment
from educap.assessments.selectors import assignment_competencies
from educap.assessments.services import Answer, assignment_submit, campaign_launch
from educap.assessments.tests.factories import make_campaign
from educap.gaps.engine import gaps_rebuild
from educap.gaps.models import SUBTREE_SCOPES, UnitGap

pytestmark = pytest.mark.django_db


def test_a_submitted_rating_reaches_the_rollups(ministry, django_capture_on_commit_callbacks):
    campaign = make_campaign(ministry)
    campaign_launch(actor=None, campaign=campaign)
    gaps_rebuild()
    teacher = ministry.people["g1d1_teacher"]
    own = RaterAssignment.objects.get(ratee=teacher, kind=AssignmentKind.SELF)
    answers = [Answer(c.item.pk, 1) for c in assignment_competencies(assignment=own)]
    with django_capture_on_commit_callbacks(execute=True):
        assignment_submit(actor=None, assignment=own, answers=answers)
    national = UnitGap.objects.filter(
        scope__in=SUBTREE_SCOPES, unit=ministry.units["MOE"], role=teacher.role, sex=teacher.sex
    ).get()
    assert (national.assessed, national.below, national.gap_sum) == (1, 1, 1)

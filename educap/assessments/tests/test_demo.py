"""The demo campaigns that `seed_demo` adds to the demo ministry."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Avg

from educap.accounts.models import User
from educap.assessments.consolidation import current_levels_rebuild
from educap.assessments.demo import CLOSED_CODE, OPEN_CODE
from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    CurrentLevel,
    DraftRating,
    RaterAssignment,
    Rating,
    Source,
)
from educap.assessments.selectors import my_assignments

pytestmark = pytest.mark.django_db

STAFF = 300


@pytest.fixture
def seeded(db: None) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--staff", str(STAFF), "--quiet", stdout=out)
    return out.getvalue()


def test_campaigns_exist_with_their_statuses(seeded: str) -> None:
    statuses = dict(Campaign.objects.values_list("code", "status"))
    assert statuses == {CLOSED_CODE: CampaignStatus.CLOSED, OPEN_CODE: CampaignStatus.OPEN}
    assert "Demo campaigns: 2" in seeded


def test_ratings_of_every_kind_and_consistent_assignments(seeded: str) -> None:
    closed = Rating.objects.filter(campaign__code=CLOSED_CODE)
    assert set(closed.values_list("source", flat=True)) == {
        Source.SELF,
        Source.SUPERVISOR,
        Source.TEST,
    }
    rated = set(Rating.objects.values_list("assignment_id", flat=True).distinct())
    for assignment in RaterAssignment.objects.filter(campaign__code__in=[CLOSED_CODE, OPEN_CODE]):
        has_ratings = assignment.pk in rated
        assert has_ratings == (
            assignment.status == AssignmentStatus.SUBMITTED
            and assignment.kind != AssignmentKind.SURVEY
        )
        if assignment.status == AssignmentStatus.SUBMITTED:
            assert assignment.submitted_at is not None
    # Shares close to the brief: most people self-rated, fewer tested.
    selves = RaterAssignment.objects.filter(campaign__code=CLOSED_CODE, kind=AssignmentKind.SELF)
    share = selves.filter(status=AssignmentStatus.SUBMITTED).count() / selves.count()
    assert 0.75 <= share <= 0.95
    # Supervisors rate a little lower than people rate themselves.
    self_mean = closed.filter(source=Source.SELF).aggregate(m=Avg("value"))["m"]
    boss_mean = closed.filter(source=Source.SUPERVISOR).aggregate(m=Avg("value"))["m"]
    assert self_mean > boss_mean
    open_work = RaterAssignment.objects.filter(campaign__code=OPEN_CODE)
    submitted = open_work.filter(status=AssignmentStatus.SUBMITTED).count() / open_work.count()
    assert 0.2 <= submitted <= 0.5
    assert open_work.filter(status=AssignmentStatus.STARTED).exists()
    assert DraftRating.objects.filter(assignment__campaign__code=OPEN_CODE).exists()


def test_the_personas_have_open_work(seeded: str) -> None:
    staff = User.objects.get(username="staff")
    own = my_assignments(user=staff).get(campaign__code=OPEN_CODE, kind=AssignmentKind.SELF)
    assert own.status == AssignmentStatus.INVITED
    assert own.is_open
    boss = User.objects.get(username="supervisor")
    team = my_assignments(user=boss).filter(
        campaign__code=OPEN_CODE, kind=AssignmentKind.SUPERVISOR
    )
    assert team.filter(status=AssignmentStatus.INVITED, ratee=staff.person).exists()
    assert team.filter(status=AssignmentStatus.INVITED).count() >= 1


def test_current_levels_equal_a_rebuild(seeded: str) -> None:
    def snapshot() -> list[tuple[object, ...]]:
        return list(
            CurrentLevel.objects.order_by("person", "item").values_list(
                "person", "item", "value", "source", "rating_id"
            )
        )

    before = snapshot()
    assert before
    current_levels_rebuild()
    assert snapshot() == before


def test_force_reload_replaces_the_demo_campaigns(seeded: str) -> None:
    call_command("seed_demo", "--staff", str(STAFF), "--quiet", "--force", stdout=io.StringIO())
    assert Campaign.objects.count() == 2


def test_no_framework_and_no_campaigns_skip_them(db: None) -> None:
    call_command(
        "seed_demo", "--staff", str(STAFF), "--quiet", "--no-framework", stdout=io.StringIO()
    )
    assert not Campaign.objects.exists()
    call_command(
        "seed_demo",
        "--staff",
        str(STAFF),
        "--quiet",
        "--force",
        "--no-campaigns",
        stdout=io.StringIO(),
    )
    assert not Campaign.objects.exists()

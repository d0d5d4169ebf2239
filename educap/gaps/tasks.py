"""Background jobs of the gap engine (thin wrappers)."""

from __future__ import annotations

from django_tasks import task

from educap.gaps.engine import gaps_apply_changes, gaps_rebuild, gaps_refresh


@task()
def refresh_gaps(person_ids: list[int], unit_ids: list[int]) -> int:
    return gaps_refresh(person_ids=person_ids, unit_ids=unit_ids)


@task()
def rebuild_gaps() -> int:
    return gaps_rebuild()


@task()
def apply_gap_changes() -> int:
    return gaps_apply_changes()


@task()
def snapshot_gaps(campaign_id: int) -> int:
    from educap.assessments.models import Campaign
    from educap.gaps.services import gap_snapshot_take

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:  # deleted while the task waited
        return 0
    return gap_snapshot_take(actor=None, campaign=campaign).rows

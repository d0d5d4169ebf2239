"""Background jobs of the assessments app (thin wrappers around services)."""

from __future__ import annotations

from django_tasks import task

from educap.assessments.consolidation import current_levels_expire, current_levels_refresh


@task()
def refresh_current_levels(person_ids: list[int]) -> int:
    return current_levels_refresh(person_ids=person_ids)


@task()
def expire_current_levels() -> int:
    return current_levels_expire()

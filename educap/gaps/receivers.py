"""Keep the rollups up to date when the data they come from changes.

Every receiver only schedules work after the sender's transaction commits, so the worker
sees the new rows, and an aborted write schedules nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from educap.frameworks.models import Framework, FrameworkStatus
from educap.gaps.tasks import apply_gap_changes, rebuild_gaps, refresh_gaps, snapshot_gaps

# Above this many people a refresh costs about as much as a rebuild, and its argument
# list would bloat the task queue: rebuild instead.
REFRESH_LIMIT = 20_000


def _refresh_on_commit(person_ids: Iterable[int] | None, unit_ids: Iterable[int] = ()) -> None:
    if person_ids is None:
        transaction.on_commit(lambda: rebuild_gaps.enqueue())
        return
    people = sorted(set(person_ids))
    units = sorted(set(unit_ids))
    if len(people) + len(units) > REFRESH_LIMIT:
        transaction.on_commit(lambda: rebuild_gaps.enqueue())
    elif people or units:
        transaction.on_commit(lambda: refresh_gaps.enqueue(people, units))


def on_current_levels_changed(
    sender: Any, person_ids: list[int] | None, logged: bool = False, **kwargs: Any
) -> None:
    # Logged changes are applied as deltas from the change feed; a big unlogged refresh
    # recomputes the people's units; a rebuild of every current level (person_ids None)
    # rebuilds every rollup.
    if logged:
        transaction.on_commit(lambda: apply_gap_changes.enqueue())
        return
    _refresh_on_commit(person_ids)


def on_people_changed(
    sender: Any, person_ids: list[int] | None, unit_ids: Iterable[int] = (), **kwargs: Any
) -> None:
    # The people's current units come from the people; their former units are passed in.
    _refresh_on_commit(person_ids, unit_ids)


def on_units_changed(sender: Any, unit_ids: list[int], **kwargs: Any) -> None:
    # A moved unit and its former parent: the refresh walks both chains of ancestors.
    _refresh_on_commit([], unit_ids)


def on_requirements_changed(sender: Any, framework_id: int | None, **kwargs: Any) -> None:
    # Only published role profiles count; a draft being edited changes no rollup.
    if framework_id is not None and (
        Framework.objects.filter(pk=framework_id, status=FrameworkStatus.DRAFT).exists()
    ):
        return
    transaction.on_commit(lambda: rebuild_gaps.enqueue())


def on_campaign_closed(sender: Any, campaign_id: int, **kwargs: Any) -> None:
    # The gaps as at the end of the campaign period, for comparing rounds later.
    transaction.on_commit(lambda: snapshot_gaps.enqueue(campaign_id))

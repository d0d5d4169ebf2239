"""Keep the rollups up to date when the data they come from changes."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from educap.gaps.tasks import rebuild_gaps, refresh_gaps


def on_current_levels_changed(sender: Any, person_ids: list[int] | None, **kwargs: Any) -> None:
    # After commit, so the worker sees the new levels; a rebuild of levels rebuilds gaps.
    if person_ids is None:
        transaction.on_commit(lambda: rebuild_gaps.enqueue())
    else:
        ids = list(person_ids)
        transaction.on_commit(lambda: refresh_gaps.enqueue(ids, []))

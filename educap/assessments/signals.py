"""Signals other apps listen to, so that assessments need not know about them."""

from django.dispatch import Signal

# Sent after current levels were recomputed; `person_ids` is the list of people concerned,
# or None after a full rebuild; `logged` tells whether every change is in the change feed
# (CurrentLevelChange), so that consumers can apply deltas instead of recomputing.
current_levels_changed = Signal()

# Sent when a campaign closes, inside the closing transaction; `campaign_id`.
campaign_closed = Signal()

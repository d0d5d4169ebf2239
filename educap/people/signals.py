"""Signals other apps listen to, so that people need not know about them."""

from django.dispatch import Signal

# Sent inside the writing transaction when staff records change in a way that can move
# someone in or out of an aggregate (unit, role, sex, active). `person_ids`: the people
# changed, or None after a change too large to list; `unit_ids`: units that may have lost
# someone (the people's former units), besides the people's current ones.
people_changed = Signal()

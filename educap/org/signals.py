"""Signals other apps listen to, so that org need not know about them."""

from django.dispatch import Signal

# Sent inside the writing transaction when units moved or closed. `unit_ids`: the units
# and their former parents (every unit whose subtree lost or gained members).
units_changed = Signal()

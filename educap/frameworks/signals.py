"""Signals other apps listen to, so that frameworks need not know about them."""

from django.dispatch import Signal

# Sent inside the writing transaction when what roles require may have changed: a
# framework published or retired, a role profile or requirement written, an import.
requirements_changed = Signal()

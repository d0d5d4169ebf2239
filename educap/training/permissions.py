"""Who may do what in training. Central officers and administrators run the catalogue;
unit managers run sessions in their subtree; trainers run the sessions they facilitate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser

from educap.accounts.models import GrantKind
from educap.accounts.scope import scope_for

if TYPE_CHECKING:
    from educap.accounts.models import User
    from educap.org.models import OrgUnit
    from educap.training.models import TrainingSession


def can_manage_catalogue(user: User | AnonymousUser | None) -> bool:
    scope = scope_for(user)
    return scope.is_admin or GrantKind.CENTRAL_OFFICER in scope.kinds


def can_manage_sessions_of(user: User | AnonymousUser | None, unit: OrgUnit) -> bool:
    """Create and run sessions organised by `unit`."""
    return scope_for(user).can_manage_unit(unit)


def can_run_session(user: User | AnonymousUser | None, session: TrainingSession) -> bool:
    """Take attendance and record results: the organisers, and the session's facilitators."""
    scope = scope_for(user)
    if scope.can_manage_unit(session.unit):
        return True
    return scope.person_id is not None and session.facilitators.filter(pk=scope.person_id).exists()

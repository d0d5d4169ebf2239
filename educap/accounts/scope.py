"""What a user may see: the single place where grants become query filters.

Every selector that returns personal data starts from `scope_for(user)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q

from educap.accounts.models import ELEVATED_KINDS, SUBTREE_KINDS, Grant, GrantKind

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User
    from educap.org.models import OrgUnit
    from educap.people.models import Person


@dataclass(frozen=True)
class Scope:
    is_admin: bool = False
    # Materialised paths of the subtrees whose personal data the user may read and manage.
    subtree_paths: tuple[str, ...] = ()
    # Subtrees the user may see aggregates of (partner viewers; managers see theirs too).
    aggregate_paths: tuple[str, ...] = ()
    person_id: int | None = None
    is_supervisor: bool = False
    is_trainer: bool = False
    kinds: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_elevated(self) -> bool:
        return bool(self.kinds & ELEVATED_KINDS)

    @property
    def sees_personal_data_of_others(self) -> bool:
        return self.is_admin or bool(self.subtree_paths) or self.is_supervisor

    def person_q(self, prefix: str = "") -> Q:
        """Filter on Person (or on a model reaching Person through `prefix`)."""
        if self.is_admin:
            return Q()
        query = Q(pk__in=[]) if not prefix else Q(**{f"{prefix}pk__in": []})
        for path in self.subtree_paths:
            query |= Q(**{f"{prefix}unit__path__startswith": path})
        if self.person_id is not None:
            query |= Q(**{f"{prefix}pk": self.person_id})
            if self.is_supervisor:
                query |= Q(**{f"{prefix}supervisor": self.person_id})
        return query

    def can_read_person(self, person: Person) -> bool:
        if self.is_admin or person.pk == self.person_id:
            return True
        if self.is_supervisor and person.supervisor_id == self.person_id:
            return True
        path = person.unit.path if person.unit is not None else None
        return path is not None and any(path.startswith(p) for p in self.subtree_paths)

    def can_manage_person(self, person: Person) -> bool:
        """Edit staff records: admins and managers of a subtree holding the person."""
        if self.is_admin:
            return True
        path = person.unit.path if person.unit is not None else None
        return path is not None and any(path.startswith(p) for p in self.subtree_paths)

    def can_manage_unit(self, unit: OrgUnit) -> bool:
        return self.is_admin or any(unit.path.startswith(p) for p in self.subtree_paths)

    def can_see_aggregates_of(self, unit: OrgUnit) -> bool:
        paths = self.subtree_paths + self.aggregate_paths
        return self.is_admin or any(unit.path.startswith(p) for p in paths)


EMPTY_SCOPE = Scope()


def _collapse(paths: set[str]) -> tuple[str, ...]:
    """Drop subtrees already covered by an ancestor subtree."""
    kept: list[str] = []
    for path in sorted(paths, key=len):
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return tuple(sorted(kept))


def scope_for(user: User | AnonymousUser | None) -> Scope:
    if user is None or not user.is_authenticated:
        return EMPTY_SCOPE
    cached: Scope | None = getattr(user, "_educap_scope", None)
    if cached is not None:
        return cached
    grants = list(Grant.objects.active().filter(user=user).select_related("unit"))
    kinds = frozenset(g.kind for g in grants)
    subtree = {g.unit.path for g in grants if g.kind in SUBTREE_KINDS and g.unit is not None}
    aggregate = {
        g.unit.path for g in grants if g.kind == GrantKind.PARTNER_VIEWER and g.unit is not None
    }
    scope = Scope(
        is_admin=user.is_superuser or GrantKind.SYSTEM_ADMIN in kinds,
        subtree_paths=_collapse(subtree),
        aggregate_paths=_collapse(aggregate),
        person_id=getattr(user, "person_id", None),
        is_supervisor=GrantKind.SUPERVISOR in kinds,
        is_trainer=GrantKind.TRAINER in kinds,
        kinds=kinds,
    )
    user._educap_scope = scope  # type: ignore[union-attr,attr-defined]
    return scope

"""Reads of the hierarchy. Units are not personal data: every signed-in user may browse them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from educap.org.models import OrgLevel, OrgUnit

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User


def level_list() -> QuerySet[OrgLevel]:
    return OrgLevel.objects.all()


def unit_roots() -> QuerySet[OrgUnit]:
    return _with_child_flag(OrgUnit.objects.filter(parent__isnull=True))


def unit_children(*, unit: OrgUnit) -> QuerySet[OrgUnit]:
    return _with_child_flag(OrgUnit.objects.filter(parent=unit)).order_by("name")


def _with_child_flag(units: QuerySet[OrgUnit]) -> QuerySet[OrgUnit]:
    has_children = OrgUnit.objects.filter(parent=OuterRef("pk"))
    return units.select_related("level").annotate(has_children=Exists(has_children))


def unit_get(*, code: str) -> OrgUnit:
    try:
        return OrgUnit.objects.select_related("level", "parent").get(code=code)
    except OrgUnit.DoesNotExist as exc:
        raise Http404 from exc


def unit_search(*, query: str, limit: int = 50) -> QuerySet[OrgUnit]:
    """Units whose code or name (in any language) matches, shallowest first."""
    query = query.strip()
    if not query:
        return OrgUnit.objects.none()
    match = (
        Q(code__iexact=query)
        | Q(name_en__icontains=query)
        | Q(name_ar__icontains=query)
        | Q(name_fr__icontains=query)
        | Q(name_lo__icontains=query)
    )
    return (
        OrgUnit.objects.filter(match)
        .select_related("level", "parent")
        .order_by("depth", "name")[:limit]
    )


def unit_list(
    *, level: OrgLevel | None = None, within: OrgUnit | None = None, search: str = ""
) -> QuerySet[OrgUnit]:
    units = OrgUnit.objects.select_related("level", "parent")
    if level is not None:
        units = units.filter(level=level)
    if within is not None:
        units = units.filter(path__startswith=within.path)
    if search.strip():
        term = search.strip()
        units = units.filter(Q(code__iexact=term) | Q(name__icontains=term))
    return units.order_by("path")


def unit_child_counts(*, unit: OrgUnit) -> dict[str, int]:
    """Number of units per level below `unit` (one grouped query)."""
    rows = (
        OrgUnit.objects.filter(path__startswith=unit.path)
        .exclude(pk=unit.pk)
        .values("level__name")
        .annotate(n=Count("id"))
        .order_by("level__depth")
    )
    return {row["level__name"]: row["n"] for row in rows}


def unit_shortcuts(*, user: User | AnonymousUser) -> list[OrgUnit]:
    """The units a user works from: the tops of their grants and their own unit."""
    if not user.is_authenticated:
        return []
    ids = set(user.grants.active().exclude(unit=None).values_list("unit_id", flat=True))
    person = getattr(user, "person", None)
    if person is not None and person.unit_id:
        ids.add(person.unit_id)
    return list(OrgUnit.objects.filter(pk__in=ids).order_by("depth", "name")[:10])

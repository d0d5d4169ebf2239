"""Writes to the hierarchy. Paths are maintained set-based: a move is one UPDATE."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils.translation import gettext as _

from educap.accounts.scope import scope_for
from educap.audit.models import AuditAction
from educap.audit.services import audit_record, snapshot
from educap.core.errors import field_error
from educap.org.models import OrgLevel, OrgUnit
from educap.org.signals import units_changed

if TYPE_CHECKING:
    from educap.accounts.models import User


class OrgErrorCode(StrEnum):
    OUTSIDE_SCOPE = "unit_outside_scope"
    CYCLE = "unit_move_cycle"
    LEVEL_ORDER = "unit_level_order"
    HAS_OPEN_CHILDREN = "unit_has_open_children"


UNIT_FIELDS = (
    "code",
    "name",
    "name_en",
    "name_ar",
    "name_fr",
    "name_lo",
    "opened_on",
    "closed_on",
    "external_id",
    "latitude",
    "longitude",
)


def _require_manager(actor: User | None, unit: OrgUnit | None) -> None:
    if actor is None:
        return  # management commands run as the system
    scope = scope_for(actor)
    if scope.is_admin:
        return
    if unit is None or not scope.can_manage_unit(unit):
        raise PermissionDenied(OrgErrorCode.OUTSIDE_SCOPE)


def _check_level(level: OrgLevel, parent: OrgUnit | None) -> None:
    if parent is not None and level.depth <= parent.level.depth:
        raise field_error(
            "level", _("A unit must be at a lower level than its parent."), OrgErrorCode.LEVEL_ORDER
        )


@transaction.atomic
def orgunit_create(
    *, actor: User | None, level: OrgLevel, parent: OrgUnit | None, **fields: Any
) -> OrgUnit:
    _require_manager(actor, parent)
    _check_level(level, parent)
    unit = OrgUnit(level=level, parent=parent, **fields)
    unit.full_clean(exclude=["path"])
    unit.save()
    unit.path = f"{parent.path if parent else ''}{unit.pk}/"
    unit.depth = parent.depth + 1 if parent else 0
    unit.save(update_fields=["path", "depth"])
    audit_record(actor=actor, action=AuditAction.CREATE, instance=unit, after=snapshot(unit))
    return unit


@transaction.atomic
def orgunit_update(*, actor: User | None, unit: OrgUnit, **fields: Any) -> OrgUnit:
    _require_manager(actor, unit)
    before = snapshot(unit)
    unknown = set(fields) - set(UNIT_FIELDS) - {"level"}
    if unknown:
        raise TypeError(f"Unknown unit fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(unit, name, value)
    if "level" in fields:
        _check_level(unit.level, unit.parent)
    unit.full_clean()
    unit.save()
    audit_record(
        actor=actor, action=AuditAction.UPDATE, instance=unit, before=before, after=snapshot(unit)
    )
    return unit


@transaction.atomic
def orgunit_move(*, actor: User | None, unit: OrgUnit, new_parent: OrgUnit | None) -> OrgUnit:
    """Re-parent a unit; its whole subtree follows in one statement."""
    _require_manager(actor, unit)
    _require_manager(actor, new_parent)
    if new_parent is not None and new_parent.path.startswith(unit.path):
        raise field_error(
            "parent",
            _("A unit cannot be moved under itself or one of its descendants."),
            OrgErrorCode.CYCLE,
        )
    _check_level(unit.level, new_parent)
    before = snapshot(unit)
    old_path, old_depth = unit.path, unit.depth
    new_path = f"{new_parent.path if new_parent else ''}{unit.pk}/"
    new_depth = new_parent.depth + 1 if new_parent else 0
    OrgUnit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1, Length("path"))),
        depth=F("depth") + (new_depth - old_depth),
    )
    old_parent_id = unit.parent_id
    OrgUnit.objects.filter(pk=unit.pk).update(parent=new_parent)
    unit.refresh_from_db()
    units_changed.send(
        sender=OrgUnit, unit_ids=[pk for pk in (unit.pk, old_parent_id) if pk is not None]
    )
    audit_record(
        actor=actor, action=AuditAction.UPDATE, instance=unit, before=before, after=snapshot(unit)
    )
    return unit


@transaction.atomic
def orgunit_close(*, actor: User | None, unit: OrgUnit, closed_on: dt.date) -> OrgUnit:
    """Close a unit. Its open children must be closed or moved first."""
    if OrgUnit.objects.filter(parent=unit).open_on(closed_on).exists():
        raise field_error(
            "closed_on",
            _("Close or move the open units under this one first."),
            OrgErrorCode.HAS_OPEN_CHILDREN,
        )
    unit = orgunit_update(actor=actor, unit=unit, closed_on=closed_on)
    units_changed.send(sender=OrgUnit, unit_ids=[unit.pk])
    return unit

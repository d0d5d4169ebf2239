"""The only way audit events are written."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import models

from educap.audit.context import current_origin
from educap.audit.models import AuditAction, AuditEvent

if TYPE_CHECKING:
    from educap.accounts.models import User


# Inside `audit_summarised`, per-row events are counted instead of written.
_summarised: ContextVar[list[int] | None] = ContextVar("audit_summarised", default=None)


@contextmanager
def audit_summarised(
    *, actor: User | None, action: AuditAction | str, object_type: str, object_repr: str
) -> Iterator[None]:
    """Write ONE event for a bulk operation (a demo load) instead of one per row written
    through the services inside the block; the event counts what it stands for."""
    counter: list[int] = []
    token = _summarised.set(counter)
    try:
        yield
    finally:
        _summarised.reset(token)
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_repr=object_repr,
        after={"events": len(counter)},
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Concrete field values of a model instance, ready for the before/after columns."""
    names = fields or [f.attname for f in instance._meta.concrete_fields]
    return {name: _jsonable(getattr(instance, name)) for name in names}


def snapshot_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _jsonable(value) for name, value in values.items()}


def audit_record(
    *,
    actor: User | None,
    action: AuditAction | str,
    instance: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    counter = _summarised.get()
    if counter is not None:
        counter.append(1)
        return AuditEvent(action=action, object_type=object_type[:60])  # not saved
    origin = current_origin()
    if instance is not None:
        object_type = object_type or instance._meta.label_lower
        object_id = object_id or str(instance.pk)
        object_repr = object_repr or str(instance)
    if before is not None and after is not None:
        # Keep only what changed, so the log stays readable.
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    actor_obj = actor if actor is not None and actor.pk else None
    return AuditEvent.objects.create(
        actor=actor_obj,
        actor_name=actor_obj.get_username() if actor_obj else "",
        action=action,
        object_type=object_type[:60],
        object_id=object_id[:64],
        object_repr=object_repr[:200],
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        ip_address=origin.ip_address if origin else None,
        path=origin.path if origin else "",
    )

"""Writes to staff records. Each is atomic, validated and audited."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from educap.accounts.scope import scope_for
from educap.audit.models import AuditAction
from educap.audit.services import audit_record, snapshot, snapshot_values
from educap.core.errors import field_error
from educap.people.models import Assignment, Person, Role
from educap.people.signals import people_changed

if TYPE_CHECKING:
    from educap.accounts.models import User
    from educap.org.models import OrgUnit


class PeopleErrorCode(StrEnum):
    OUTSIDE_SCOPE = "person_outside_scope"
    DUPLICATE_STAFF_NUMBER = "duplicate_staff_number"
    SUPERVISOR_OUTSIDE_SCOPE = "supervisor_outside_scope"
    SELF_SUPERVISION = "self_supervision"


PERSON_FIELDS = (
    "staff_number",
    "national_id",
    "given_name",
    "family_name",
    "name_local",
    "sex",
    "birth_year",
    "hire_date",
    "email",
    "phone",
    "is_active",
)


def _require_unit_manager(actor: User, unit: OrgUnit | None) -> None:
    scope = scope_for(actor)
    if scope.is_admin:
        return
    if unit is None or not scope.can_manage_unit(unit):
        raise PermissionDenied(PeopleErrorCode.OUTSIDE_SCOPE)


def _sync_current_post(person: Person) -> None:
    """Mirror the current primary assignment onto the person row."""
    today = timezone.localdate()
    current = (
        person.assignments.filter(is_primary=True, start_date__lte=today)
        .exclude(end_date__lt=today)
        .order_by("-start_date", "-id")
        .first()
    )
    old_unit_id = person.unit_id
    person.unit_id = current.unit_id if current else None
    person.role_id = current.role_id if current else None
    person.supervisor_id = current.supervisor_id if current else None
    person.save(update_fields=["unit", "role", "supervisor", "updated_at"])
    people_changed.send(
        sender=Person,
        person_ids=[person.pk],
        unit_ids=[old_unit_id] if old_unit_id is not None else [],
    )


@transaction.atomic
def person_create(
    *,
    actor: User,
    unit: OrgUnit,
    role: Role,
    start_date: dt.date | None = None,
    supervisor: Person | None = None,
    **fields: Any,
) -> Person:
    """Register a staff member together with their first post."""
    _require_unit_manager(actor, unit)
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"Unknown person fields: {sorted(unknown)}")
    person = Person(**fields)
    person.full_clean()
    person.save()
    audit_record(actor=actor, action=AuditAction.CREATE, instance=person, after=snapshot(person))
    assignment_start(
        actor=actor,
        person=person,
        unit=unit,
        role=role,
        start_date=start_date or timezone.localdate(),
        supervisor=supervisor,
    )
    person.refresh_from_db()
    return person


@transaction.atomic
def person_update(*, actor: User, person: Person, **fields: Any) -> Person:
    _require_unit_manager(actor, person.unit)
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"Unknown person fields: {sorted(unknown)}")
    before = {name: getattr(person, name) for name in PERSON_FIELDS}
    for name, value in fields.items():
        setattr(person, name, value)
    try:
        person.full_clean()
    except ValidationError:
        for name, value in before.items():  # leave the caller's object as it was
            setattr(person, name, value)
        raise
    person.save()
    if any(before[name] != getattr(person, name) for name in ("sex", "is_active")):
        people_changed.send(sender=Person, person_ids=[person.pk], unit_ids=[])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=person,
        before=snapshot_values(before),
        after=snapshot(person, PERSON_FIELDS),
    )
    return person


@transaction.atomic
def assignment_start(
    *,
    actor: User,
    person: Person,
    unit: OrgUnit,
    role: Role,
    start_date: dt.date,
    supervisor: Person | None = None,
    is_primary: bool = True,
) -> Assignment:
    """Give a person a new post; a new primary post ends the previous primary one."""
    _require_unit_manager(actor, unit)
    if supervisor is not None and supervisor.pk == person.pk:
        raise field_error(
            "supervisor",
            _("A person cannot supervise themselves."),
            PeopleErrorCode.SELF_SUPERVISION,
        )
    if is_primary:
        previous = person.assignments.filter(is_primary=True, end_date__isnull=True)
        for old in previous.filter(start_date__lt=start_date):
            old_before = snapshot(old)
            old.end_date = start_date - dt.timedelta(days=1)
            old.save(update_fields=["end_date"])
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                instance=old,
                before=old_before,
                after=snapshot(old),
            )
    assignment = Assignment(
        person=person,
        role=role,
        unit=unit,
        supervisor=supervisor,
        start_date=start_date,
        is_primary=is_primary,
    )
    assignment.full_clean()
    assignment.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE, instance=assignment, after=snapshot(assignment)
    )
    _sync_current_post(person)
    return assignment


@transaction.atomic
def assignment_end(*, actor: User, assignment: Assignment, end_date: dt.date) -> Assignment:
    _require_unit_manager(actor, assignment.unit)
    before = snapshot(assignment)
    assignment.end_date = end_date
    assignment.full_clean()
    assignment.save(update_fields=["end_date"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=assignment,
        before=before,
        after=snapshot(assignment),
    )
    _sync_current_post(assignment.person)
    return assignment

"""Writes to accounts and grants, and the second factor."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from educap.accounts.models import Grant, GrantKind, User
from educap.accounts.scope import scope_for
from educap.audit.models import AuditAction
from educap.audit.services import audit_record, snapshot
from educap.core.errors import field_error
from educap.org.models import OrgUnit
from educap.people.models import Person


class AccountErrorCode(StrEnum):
    NOT_ADMIN = "not_admin"
    OUTSIDE_SCOPE = "grant_outside_scope"
    BAD_TOKEN = "otp_invalid"  # noqa: S105 - an error code, not a secret


def _require_grantor(actor: User | None, kind: str, unit: OrgUnit | None) -> None:
    """Admins grant anything; unit managers grant non-elevated access inside their subtree."""
    if actor is None:
        return
    scope = scope_for(actor)
    if scope.is_admin:
        return
    lowly = kind in {GrantKind.STAFF, GrantKind.SUPERVISOR, GrantKind.TRAINER}
    if lowly and unit is not None and scope.can_manage_unit(unit):
        return
    raise PermissionDenied(AccountErrorCode.OUTSIDE_SCOPE)


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str | None,
    person: Person | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    language: str = "",
) -> User:
    if actor is not None and not scope_for(actor).is_admin:
        raise PermissionDenied(AccountErrorCode.NOT_ADMIN)
    user = User(
        username=username,
        person=person,
        email=email,
        first_name=first_name,
        last_name=last_name,
        language=language,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=user,
        after=snapshot(user, ["username", "person_id", "email", "language"]),
    )
    return user


@transaction.atomic
def grant_add(
    *,
    actor: User | None,
    user: User,
    kind: GrantKind | str,
    unit: OrgUnit | None = None,
    ends_on: dt.date | None = None,
) -> Grant:
    _require_grantor(actor, kind, unit)
    grant, created = Grant.objects.get_or_create(
        user=user, kind=kind, unit=unit, defaults={"granted_by": actor, "ends_on": ends_on}
    )
    if created:
        grant.full_clean()
        audit_record(
            actor=actor,
            action=AuditAction.GRANT,
            instance=grant,
            object_repr=f"{user.username}: {grant}",
            after=snapshot(grant, ["user_id", "kind", "unit_id", "ends_on"]),
        )
    return grant


@transaction.atomic
def grant_revoke(*, actor: User | None, grant: Grant) -> None:
    _require_grantor(actor, grant.kind, grant.unit)
    before = snapshot(grant, ["user_id", "kind", "unit_id", "ends_on"])
    audit_record(
        actor=actor,
        action=AuditAction.REVOKE,
        instance=grant,
        object_repr=f"{grant.user.username}: {grant}",
        before=before,
    )
    grant.delete()


@transaction.atomic
def totp_device_start(*, user: User) -> TOTPDevice:
    """An unconfirmed authenticator for the user (replaces any earlier unconfirmed one)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)


@transaction.atomic
def totp_device_confirm(*, user: User, device: TOTPDevice, token: str) -> TOTPDevice:
    if device.user_id != user.pk or not device.verify_token(token):
        raise field_error(
            "token",
            _("That code is not right. Check your phone's clock and try again."),
            AccountErrorCode.BAD_TOKEN,
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(
        actor=user, action=AuditAction.UPDATE, instance=user, object_repr=f"{user}: 2FA enabled"
    )
    return device

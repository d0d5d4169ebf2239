"""Writes on certificates: revoking one (and undoing a revocation made in error).

Certificates are issued by `completion.enrolment_complete`. Revoking is for central
officers and system administrators, and for the managers of the unit that organised the
session; a reason is required, shown on the public verification page and in the
credential's status, and kept in the audit log.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from educap.accounts.models import GrantKind
from educap.accounts.scope import scope_for
from educap.audit.models import AuditAction
from educap.audit.services import audit_record, snapshot
from educap.core.errors import field_error
from educap.training.models import Certificate

if TYPE_CHECKING:
    from educap.accounts.models import User

REVOCATION_FIELDS = ("revoked_at", "revoked_by_id", "revocation_reason")
REASON_MAX_LENGTH = 300


class CertificateErrorCode(StrEnum):
    NOT_ALLOWED = "certificate_not_allowed"
    REASON_REQUIRED = "certificate_reason_required"
    REASON_TOO_LONG = "certificate_reason_too_long"
    ALREADY_REVOKED = "certificate_already_revoked"
    NOT_REVOKED = "certificate_not_revoked"
    REVOKED = "certificate_revoked"


def certificate_revoke_allowed(
    *, user: User | AnonymousUser | None, certificate: Certificate
) -> bool:
    """Central officers and administrators; managers of the unit that organised the session."""
    scope = scope_for(user)
    if scope.is_admin or GrantKind.CENTRAL_OFFICER in scope.kinds:
        return True
    enrolment = certificate.enrolment
    return enrolment is not None and scope.can_manage_unit(enrolment.session.unit)


def _require_allowed(actor: User | None, certificate: Certificate) -> None:
    if not certificate_revoke_allowed(user=actor, certificate=certificate):
        raise PermissionDenied(CertificateErrorCode.NOT_ALLOWED)


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise field_error(
            "reason",
            _("Say why the certificate is revoked."),
            CertificateErrorCode.REASON_REQUIRED,
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise field_error(
            "reason",
            _("Keep the reason under %(max)s characters.") % {"max": REASON_MAX_LENGTH},
            CertificateErrorCode.REASON_TOO_LONG,
        )
    return reason


@transaction.atomic
def certificate_revoke(*, actor: User | None, certificate: Certificate, reason: str) -> Certificate:
    """Mark a certificate revoked; its verification page and credential status say so."""
    _require_allowed(actor, certificate)
    reason = _clean_reason(reason)
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.revoked_at is not None:
        raise ValidationError(
            _("This certificate is already revoked."), code=CertificateErrorCode.ALREADY_REVOKED
        )
    before = snapshot(certificate, REVOCATION_FIELDS)
    certificate.revoked_at = timezone.now()
    certificate.revoked_by = actor if actor is not None and actor.pk else None
    certificate.revocation_reason = reason
    certificate.full_clean()
    certificate.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=certificate,
        before=before,
        after=snapshot(certificate, REVOCATION_FIELDS),
    )
    return certificate


@transaction.atomic
def certificate_reinstate(
    *, actor: User | None, certificate: Certificate, reason: str
) -> Certificate:
    """Undo a revocation made in error; the audit log keeps the revocation and this reason."""
    _require_allowed(actor, certificate)
    reason = _clean_reason(reason)
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.revoked_at is None:
        raise ValidationError(
            _("This certificate is not revoked."), code=CertificateErrorCode.NOT_REVOKED
        )
    before = snapshot(certificate, REVOCATION_FIELDS)
    certificate.revoked_at = None
    certificate.revoked_by = None
    certificate.revocation_reason = ""
    certificate.full_clean()
    certificate.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=certificate,
        before=before,
        after={**snapshot(certificate, REVOCATION_FIELDS), "reinstated_because": reason},
    )
    return certificate

"""Writes for continuing professional development (CPD).

Staff submit external learning for themselves with evidence; their supervisor, or a manager
over them, approves or rejects it; central officers set the yearly requirement per role.
Internal completions become approved records in `completion.enrolment_complete`, not here.

Evidence is checked by its content, never by its name or declared type: only PDF, JPEG and
PNG files are kept, under a random name, and they are served only through a view that checks
who is asking (`training:cpd_evidence`), never as a media URL.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from educap.accounts.models import GrantKind
from educap.accounts.scope import scope_for
from educap.audit.models import AuditAction
from educap.audit.services import audit_record, snapshot
from educap.core.errors import CoreErrorCode, field_error
from educap.people.models import Person, Role
from educap.training.models import CpdKind, CpdRecord, CpdRequirement, CpdStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.core.files.uploadedfile import UploadedFile

    from educap.accounts.models import User


class CpdErrorCode(StrEnum):
    NOT_ALLOWED = "cpd_not_allowed"
    NO_STAFF_RECORD = "cpd_no_staff_record"
    KIND_NOT_EXTERNAL = "cpd_kind_not_external"
    DATE_IN_FUTURE = "cpd_date_in_future"
    DATE_TOO_OLD = "cpd_date_too_old"
    NO_AMOUNT = "cpd_no_hours_or_credits"
    HOURS_OUT_OF_RANGE = "cpd_hours_out_of_range"
    CREDITS_OUT_OF_RANGE = "cpd_credits_out_of_range"
    DUPLICATE = "cpd_duplicate"
    EVIDENCE_REQUIRED = "cpd_evidence_required"
    # The same code as every other upload that is too large.
    EVIDENCE_TOO_LARGE = CoreErrorCode.FILE_TOO_LARGE.value
    EVIDENCE_TYPE = "cpd_evidence_type"
    NOT_PENDING = "cpd_not_pending"
    OWN_RECORD = "cpd_own_record"
    NOTE_REQUIRED = "cpd_note_required"
    NOT_YOURS = "cpd_not_yours"
    REQUIREMENT_EMPTY = "cpd_requirement_empty"
    REQUIREMENT_OUT_OF_RANGE = "cpd_requirement_out_of_range"


# Learning staff record themselves; internal courses arrive through completion.
EXTERNAL_KINDS = (
    CpdKind.COURSE,
    CpdKind.CONFERENCE,
    CpdKind.WEBINAR,
    CpdKind.ACADEMIC,
    CpdKind.OTHER,
)
# One record is one activity: a full year of academic study is about 1,000 hours.
MAX_HOURS = Decimal(1000)
MAX_CREDITS = Decimal(200)
# Older learning no longer counts towards any requirement anyone checks.
MAX_AGE_YEARS = 5
# A yearly requirement above this is a typing error, not a policy.
MAX_REQUIRED = Decimal(1000)


# --- evidence files --------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceType:
    extension: str
    content_type: str


PDF = EvidenceType(".pdf", "application/pdf")
JPEG = EvidenceType(".jpg", "image/jpeg")
PNG = EvidenceType(".png", "image/png")
EVIDENCE_TYPES = {t.extension: t for t in (PDF, JPEG, PNG)}


def evidence_max_bytes() -> int:
    return int(settings.EDUCAP_MAX_UPLOAD_MB) * 1024 * 1024


def _image_is_valid(data: bytes) -> bool:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception:  # Pillow raises many kinds of errors on broken or hostile files.
        return False
    return True


def evidence_sniff(data: bytes) -> EvidenceType | None:
    """The type of an evidence file judged by its content; None when it is not one we keep.

    A PDF must start with its header and end with its end-of-file marker (a renamed text or
    HTML file does not); images must open and verify with Pillow."""
    if data.startswith(b"%PDF-"):
        return PDF if b"%%EOF" in data[-2048:] else None
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG if _image_is_valid(data) else None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG if _image_is_valid(data) else None
    return None


def evidence_type_of(name: str) -> EvidenceType:
    """The stored file's type (its name was chosen from the sniffed type on upload)."""
    for extension, kind in EVIDENCE_TYPES.items():
        if name.lower().endswith(extension):
            return kind
    return EvidenceType("", "application/octet-stream")


def evidence_check(upload: UploadedFile) -> tuple[bytes, EvidenceType]:
    """Read and check an uploaded evidence file: size first, then content."""
    limit = evidence_max_bytes()
    if upload.size is not None and upload.size > limit:
        raise field_error(
            "evidence",
            _("The file is larger than %(mb)s MB.") % {"mb": settings.EDUCAP_MAX_UPLOAD_MB},
            CpdErrorCode.EVIDENCE_TOO_LARGE,
        )
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise field_error(
            "evidence",
            _("The file is larger than %(mb)s MB.") % {"mb": settings.EDUCAP_MAX_UPLOAD_MB},
            CpdErrorCode.EVIDENCE_TOO_LARGE,
        )
    kind = evidence_sniff(data)
    if kind is None:
        raise field_error(
            "evidence",
            _("Upload a PDF, JPEG or PNG file (a certificate, a transcript or a photo of it)."),
            CpdErrorCode.EVIDENCE_TYPE,
        )
    return data, kind


# --- who may do what -------------------------------------------------------------------


def cpd_decide_allowed(*, user: User | AnonymousUser | None, person: Person) -> bool:
    """Approve or reject a person's learning: their supervisor, or a manager over them
    (unit managers, central officers, administrators), never the person themself."""
    scope = scope_for(user)
    if scope.person_id is not None and scope.person_id == person.pk:
        return False
    if scope.is_admin:
        return True
    if (
        scope.is_supervisor
        and scope.person_id is not None
        and person.supervisor_id == scope.person_id
    ):
        return True
    return scope.can_manage_person(person)


def cpd_requirements_manage_allowed(*, user: User | AnonymousUser | None) -> bool:
    scope = scope_for(user)
    return scope.is_admin or GrantKind.CENTRAL_OFFICER in scope.kinds


# --- records ---------------------------------------------------------------------------


def _decimal(value: Decimal | int | float | str | None, field: str) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise field_error(field, _("Enter a number."), CoreErrorCode.INVALID) from exc
    if not number.is_finite():
        raise field_error(field, _("Enter a number."), CoreErrorCode.INVALID)
    return number


def _check_amounts(hours: Decimal, credits: Decimal) -> None:
    if not Decimal(0) <= hours <= MAX_HOURS:
        raise field_error(
            "hours",
            _("Hours must be between 0 and %(max)s.") % {"max": MAX_HOURS},
            CpdErrorCode.HOURS_OUT_OF_RANGE,
        )
    if not Decimal(0) <= credits <= MAX_CREDITS:
        raise field_error(
            "credits",
            _("Credits must be between 0 and %(max)s.") % {"max": MAX_CREDITS},
            CpdErrorCode.CREDITS_OUT_OF_RANGE,
        )
    if hours == 0 and credits == 0:
        raise field_error(
            "hours",
            _("Give the hours or the credits this learning is worth."),
            CpdErrorCode.NO_AMOUNT,
        )


def _check_date(completed_on: dt.date) -> None:
    today = timezone.localdate()
    if completed_on > today:
        raise field_error(
            "completed_on",
            _("The date cannot be in the future."),
            CpdErrorCode.DATE_IN_FUTURE,
        )
    oldest = dt.date(today.year - MAX_AGE_YEARS, 1, 1)
    if completed_on < oldest:
        raise field_error(
            "completed_on",
            _("Learning completed before %(date)s can no longer be recorded.")
            % {"date": oldest.isoformat()},
            CpdErrorCode.DATE_TOO_OLD,
        )


@transaction.atomic
def cpd_submit(
    *,
    actor: User,
    kind: str,
    title: str,
    completed_on: dt.date,
    evidence: UploadedFile | None,
    provider: str = "",
    hours: Decimal | int | str | None = None,
    credits: Decimal | int | str | None = None,
) -> CpdRecord:
    """Record external learning for the actor's own staff record, awaiting approval."""
    scope = scope_for(actor)
    if scope.person_id is None:
        raise PermissionDenied(CpdErrorCode.NO_STAFF_RECORD)
    if kind not in EXTERNAL_KINDS:
        raise field_error(
            "kind",
            _("Choose the kind of external learning."),
            CpdErrorCode.KIND_NOT_EXTERNAL,
        )
    title = (title or "").strip()
    provider = (provider or "").strip()
    hours_value = _decimal(hours, "hours")
    credits_value = _decimal(credits, "credits")
    _check_date(completed_on)
    _check_amounts(hours_value, credits_value)
    person = Person.objects.select_for_update().get(pk=scope.person_id)
    duplicate = CpdRecord.objects.filter(
        person=person,
        title__iexact=title,
        completed_on=completed_on,
        status__in=(CpdStatus.PENDING, CpdStatus.APPROVED),
    ).exists()
    if duplicate:
        raise field_error(
            "title",
            _("You have already recorded this learning on this date."),
            CpdErrorCode.DUPLICATE,
        )
    record = CpdRecord(
        person=person,
        kind=kind,
        title=title,
        provider=provider,
        completed_on=completed_on,
        hours=hours_value,
        credits=credits_value,
        status=CpdStatus.PENDING,
    )
    record.full_clean(exclude=["evidence"])
    if evidence is None:
        raise field_error(
            "evidence",
            _("Attach the certificate, transcript or attendance proof."),
            CpdErrorCode.EVIDENCE_REQUIRED,
        )
    data, evidence_type = evidence_check(evidence)
    # A random name: the uploader's file name never reaches the disk or a URL.
    record.evidence.save(
        f"{uuid.uuid4().hex}{evidence_type.extension}", ContentFile(data), save=False
    )
    stored = record.evidence.name
    try:
        record.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            instance=record,
            after=snapshot(
                record,
                ["person_id", "kind", "title", "provider", "completed_on", "hours", "credits"],
            ),
        )
    except Exception:
        record.evidence.storage.delete(stored)
        raise
    return record


@transaction.atomic
def cpd_decide(*, actor: User, record: CpdRecord, approve: bool, note: str = "") -> CpdRecord:
    """Approve or reject a pending record; a rejection says why."""
    record = CpdRecord.objects.select_for_update().select_related("person").get(pk=record.pk)
    scope = scope_for(actor)
    if scope.person_id is not None and scope.person_id == record.person_id:
        raise PermissionDenied(CpdErrorCode.OWN_RECORD)
    if not cpd_decide_allowed(user=actor, person=record.person):
        raise PermissionDenied(CpdErrorCode.NOT_ALLOWED)
    if record.status != CpdStatus.PENDING:
        raise ValidationError(
            _("This record has already been decided (%(status)s).")
            % {"status": record.get_status_display()},
            code=CpdErrorCode.NOT_PENDING,
        )
    note = (note or "").strip()
    if not approve and not note:
        raise field_error(
            "note",
            _("Say why the record is rejected, so that it can be corrected."),
            CpdErrorCode.NOTE_REQUIRED,
        )
    before = snapshot(record, ["status", "decision_note"])
    record.status = CpdStatus.APPROVED if approve else CpdStatus.REJECTED
    record.decided_by = actor
    record.decided_at = timezone.now()
    record.decision_note = note
    record.full_clean(exclude=["evidence"])
    record.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=record,
        before=before,
        after=snapshot(record, ["status", "decision_note"]),
    )
    return record


@transaction.atomic
def cpd_withdraw(*, actor: User, record: CpdRecord) -> None:
    """Take back one's own record while it awaits approval (the record and its file go)."""
    record = CpdRecord.objects.select_for_update().get(pk=record.pk)
    scope = scope_for(actor)
    if scope.person_id is None or scope.person_id != record.person_id:
        raise PermissionDenied(CpdErrorCode.NOT_YOURS)
    if record.status != CpdStatus.PENDING:
        raise ValidationError(
            _("Only a record awaiting approval can be withdrawn."),
            code=CpdErrorCode.NOT_PENDING,
        )
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        instance=record,
        before=snapshot(record, ["person_id", "kind", "title", "completed_on", "hours", "status"]),
    )
    name = record.evidence.name
    storage = record.evidence.storage
    record.delete()
    if name:
        # Only once the deletion is committed: a rollback keeps the record and its file.
        transaction.on_commit(lambda: storage.delete(name))


# --- requirements ----------------------------------------------------------------------


def _required(value: Decimal | int | str | None, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    number = _decimal(value, field)
    if not Decimal(0) <= number <= MAX_REQUIRED:
        raise field_error(
            field,
            _("Enter a value between 0 and %(max)s.") % {"max": MAX_REQUIRED},
            CpdErrorCode.REQUIREMENT_OUT_OF_RANGE,
        )
    return number or None


@transaction.atomic
def cpd_requirement_set(
    *,
    actor: User | None,
    role: Role,
    year: int,
    hours: Decimal | int | str | None = None,
    credits: Decimal | int | str | None = None,
) -> CpdRequirement:
    """What `role` must reach in `year`: hours, credits or both (creates or replaces)."""
    if actor is not None and not cpd_requirements_manage_allowed(user=actor):
        raise PermissionDenied(CpdErrorCode.NOT_ALLOWED)
    hours_value = _required(hours, "hours")
    credits_value = _required(credits, "credits")
    if hours_value is None and credits_value is None:
        raise field_error(
            "hours",
            _("Give the hours, the credits or both."),
            CpdErrorCode.REQUIREMENT_EMPTY,
        )
    requirement = CpdRequirement.objects.select_for_update().filter(role=role, year=year).first()
    before = snapshot(requirement, ["hours", "credits"]) if requirement else None
    if requirement is None:
        requirement = CpdRequirement(role=role, year=year)
    requirement.hours = hours_value
    requirement.credits = credits_value
    requirement.full_clean()
    requirement.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE if before is not None else AuditAction.CREATE,
        instance=requirement,
        before=before,
        after=snapshot(requirement, ["role_id", "year", "hours", "credits"]),
    )
    return requirement


@transaction.atomic
def cpd_requirement_delete(*, actor: User | None, requirement: CpdRequirement) -> None:
    if actor is not None and not cpd_requirements_manage_allowed(user=actor):
        raise PermissionDenied(CpdErrorCode.NOT_ALLOWED)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        instance=requirement,
        before=snapshot(requirement, ["role_id", "year", "hours", "credits"]),
    )
    requirement.delete()

"""CPD writes: submitting external learning (dates, amounts, evidence checked by content),
deciding (who may), withdrawing, and the yearly requirements per role."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from educap.accounts.models import GrantKind
from educap.audit.models import AuditAction, AuditEvent
from educap.core.testing import MiniMinistry, make_user
from educap.people.models import Person
from educap.training.models import CpdKind, CpdRecord, CpdRequirement, CpdStatus
from educap.training.services.cpd import (
    CpdErrorCode,
    cpd_decide,
    cpd_requirement_delete,
    cpd_requirement_set,
    cpd_submit,
    cpd_withdraw,
    evidence_sniff,
)

pytestmark = pytest.mark.django_db


# --- helpers shared by the CPD test modules --------------------------------------------

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def upload(data: bytes = PDF, name: str = "certificate.pdf", content_type: str = "") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type or "application/pdf")


def submit(user: Any, **overrides: Any) -> CpdRecord:
    fields: dict[str, Any] = {
        "kind": CpdKind.COURSE,
        "title": "Data visualisation",
        "provider": "National University",
        "completed_on": timezone.localdate() - dt.timedelta(days=3),
        "hours": Decimal(12),
        "credits": Decimal(0),
        "evidence": upload(),
    }
    fields.update(overrides)
    return cpd_submit(actor=user, **fields)


def code_of(exc: pytest.ExceptionInfo[Any]) -> str:
    error = exc.value
    if isinstance(error, PermissionDenied):
        return str(error.args[0])
    if hasattr(error, "error_dict"):
        return next(iter(error.error_dict.values()))[0].code
    return error.error_list[0].code


def make_record(person: Person, **fields: Any) -> CpdRecord:
    defaults: dict[str, Any] = {
        "kind": CpdKind.COURSE,
        "title": "A course",
        "completed_on": timezone.localdate(),
        "hours": Decimal(5),
        "status": CpdStatus.APPROVED,
    }
    return CpdRecord.objects.create(person=person, **{**defaults, **fields})


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


# --- submit ----------------------------------------------------------------------------


def test_submit_records_pending_learning_with_a_random_file_name(ministry: MiniMinistry) -> None:
    teacher = ministry.users["teacher"]
    record = submit(teacher, evidence=upload(name="../../etc/My CV.pdf"))
    assert record.person_id == ministry.people["g1d1_teacher"].pk
    assert record.status == CpdStatus.PENDING
    assert record.evidence.name.startswith("training/cpd/")
    assert record.evidence.name.endswith(".pdf")
    assert "CV" not in record.evidence.name
    assert record.evidence.read() == PDF
    event = AuditEvent.objects.get(object_type="training.cpdrecord", object_id=str(record.pk))
    assert event.action == AuditAction.CREATE
    assert event.actor == teacher


@pytest.mark.parametrize(("fmt", "extension"), [("PNG", ".png"), ("JPEG", ".jpg")])
def test_images_are_accepted_and_named_by_their_content(ministry, fmt, extension) -> None:
    # The name says PDF; the content decides.
    record = submit(ministry.users["teacher"], evidence=upload(image_bytes(fmt), "scan.pdf"))
    assert record.evidence.name.endswith(extension)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"completed_on": timezone.localdate() + dt.timedelta(days=1)}, "cpd_date_in_future"),
        ({"completed_on": dt.date(2000, 1, 1)}, "cpd_date_too_old"),
        ({"hours": Decimal(0), "credits": Decimal(0)}, "cpd_no_hours_or_credits"),
        ({"hours": None, "credits": None}, "cpd_no_hours_or_credits"),
        ({"hours": Decimal(-1)}, "cpd_hours_out_of_range"),
        ({"hours": Decimal(1001)}, "cpd_hours_out_of_range"),
        ({"credits": Decimal(201)}, "cpd_credits_out_of_range"),
        ({"hours": "many"}, "invalid"),
        ({"hours": "NaN"}, "invalid"),
        ({"kind": CpdKind.INTERNAL}, "cpd_kind_not_external"),
        ({"kind": "holiday"}, "cpd_kind_not_external"),
        ({"evidence": None}, "cpd_evidence_required"),
    ],
)
def test_submit_refuses_bad_input(ministry, overrides, code) -> None:
    with pytest.raises(ValidationError) as exc:
        submit(ministry.users["teacher"], **overrides)
    assert code_of(exc) == code
    assert not CpdRecord.objects.exists()


def test_today_and_credits_only_are_fine(ministry) -> None:
    record = submit(
        ministry.users["teacher"],
        completed_on=timezone.localdate(),
        hours=None,
        credits=Decimal("2.5"),
    )
    assert record.hours == 0
    assert record.credits == Decimal("2.5")


def test_an_empty_title_is_refused(ministry) -> None:
    with pytest.raises(ValidationError) as exc:
        submit(ministry.users["teacher"], title="   ")
    assert "title" in exc.value.message_dict


def test_two_decimal_places_are_refused(ministry) -> None:
    with pytest.raises(ValidationError) as exc:
        submit(ministry.users["teacher"], hours=Decimal("1.25"))
    assert "hours" in exc.value.message_dict


@pytest.mark.parametrize(
    "data",
    [
        b"<html><script>alert(1)</script></html>",  # a web page renamed .pdf
        b"%PDF-1.4 but really just text with no end marker",  # a fake PDF
        b"MZ\x90\x00\x03" + b"\x00" * 100,  # a program
        b"\x89PNG\r\n\x1a\n" + b"garbage" * 20,  # a PNG signature on nonsense
        b"\xff\xd8\xff\xe0" + b"garbage" * 20,  # a JPEG signature on nonsense
        b"",
    ],
)
def test_evidence_is_checked_by_content(ministry, data) -> None:
    with pytest.raises(ValidationError) as exc:
        submit(ministry.users["teacher"], evidence=upload(data, "certificate.pdf"))
    assert code_of(exc) == CpdErrorCode.EVIDENCE_TYPE
    assert not CpdRecord.objects.exists()


def test_evidence_over_the_size_limit_is_refused(ministry, settings, tmp_path) -> None:
    settings.EDUCAP_MAX_UPLOAD_MB = 1
    big = PDF[:-6] + b" " * (1024 * 1024) + b"%%EOF\n"
    with pytest.raises(ValidationError) as exc:
        submit(ministry.users["teacher"], evidence=upload(big))
    assert code_of(exc) == "file_too_large"
    assert not any(tmp_path.rglob("*.pdf"))


def test_sniffing() -> None:
    assert evidence_sniff(PDF) is not None
    assert evidence_sniff(image_bytes("PNG")).extension == ".png"  # type: ignore[union-attr]
    assert evidence_sniff(image_bytes("GIF")) is None


def test_the_same_learning_twice_is_refused(ministry) -> None:
    submit(ministry.users["teacher"])
    with pytest.raises(ValidationError) as exc:
        submit(ministry.users["teacher"], title="DATA VISUALISATION")
    assert code_of(exc) == CpdErrorCode.DUPLICATE


def test_an_account_without_a_staff_record_cannot_submit(ministry) -> None:
    with pytest.raises(PermissionDenied) as exc:
        submit(ministry.users["partner"])
    assert code_of(exc) == CpdErrorCode.NO_STAFF_RECORD


# --- decide ----------------------------------------------------------------------------


@pytest.fixture
def pending(ministry: MiniMinistry) -> CpdRecord:
    return submit(ministry.users["teacher"])


@pytest.mark.parametrize("username", ["head", "dist", "gov1", "central", "admin"])
def test_supervisor_and_managers_over_the_person_can_approve(ministry, pending, username):
    actor = ministry.users[username]
    record = cpd_decide(actor=actor, record=pending, approve=True, note="")
    assert record.status == CpdStatus.APPROVED
    assert record.decided_by == actor
    assert record.decided_at is not None
    event = AuditEvent.objects.filter(object_id=str(pending.pk)).latest("pk")
    assert event.before == {"status": "pending"}
    assert event.after == {"status": "approved"}


def test_nobody_approves_their_own_learning(ministry) -> None:
    # The district officer manages their own district, and still cannot approve themself.
    own = submit(ministry.users["dist"])
    with pytest.raises(PermissionDenied) as exc:
        cpd_decide(actor=ministry.users["dist"], record=own, approve=True)
    assert code_of(exc) == CpdErrorCode.OWN_RECORD
    mine = submit(ministry.users["teacher"], title="Another")
    with pytest.raises(PermissionDenied):
        cpd_decide(actor=ministry.users["teacher"], record=mine, approve=True)
    own.refresh_from_db()
    assert own.status == CpdStatus.PENDING


def test_strangers_cannot_decide(ministry, pending) -> None:
    other_head = make_user(
        "g2head",
        ministry.people["g2d1_head"],
        [(GrantKind.SUPERVISOR, None), (GrantKind.STAFF, None)],
    )
    other_district = make_user("g2dist", None, [(GrantKind.UNIT_MANAGER, ministry.units["G2D1"])])
    for user in (other_head, other_district, ministry.users["partner"], ministry.users["trainer"]):
        with pytest.raises(PermissionDenied) as exc:
            cpd_decide(actor=user, record=pending, approve=True)
        assert code_of(exc) == CpdErrorCode.NOT_ALLOWED
    # A colleague of the same school, supervising nobody, cannot either.
    colleague = make_user("colleague", ministry.people["g1d2_teacher"], [(GrantKind.STAFF, None)])
    with pytest.raises(PermissionDenied):
        cpd_decide(actor=colleague, record=pending, approve=True)
    pending.refresh_from_db()
    assert pending.status == CpdStatus.PENDING


def test_a_supervisor_without_the_grant_is_not_a_decider(ministry, pending) -> None:
    # head supervises the teacher in the data, but only the grant gives the right.
    ministry.users["head"].grants.filter(kind=GrantKind.SUPERVISOR).delete()
    ministry.users["head"].__dict__.pop("_educap_scope", None)
    with pytest.raises(PermissionDenied):
        cpd_decide(actor=ministry.users["head"], record=pending, approve=True)


def test_a_rejection_needs_a_note_and_a_decision_is_final(ministry, pending) -> None:
    head = ministry.users["head"]
    with pytest.raises(ValidationError) as exc:
        cpd_decide(actor=head, record=pending, approve=False, note="  ")
    assert code_of(exc) == CpdErrorCode.NOTE_REQUIRED
    record = cpd_decide(actor=head, record=pending, approve=False, note="No dates shown")
    assert record.status == CpdStatus.REJECTED
    assert record.decision_note == "No dates shown"
    with pytest.raises(ValidationError) as exc:
        cpd_decide(actor=head, record=pending, approve=True)
    assert code_of(exc) == CpdErrorCode.NOT_PENDING


def test_internal_completions_cannot_be_decided_again(ministry) -> None:
    record = make_record(ministry.people["g1d1_teacher"], kind=CpdKind.INTERNAL)
    with pytest.raises(ValidationError) as exc:
        cpd_decide(actor=ministry.users["head"], record=record, approve=False, note="x")
    assert code_of(exc) == CpdErrorCode.NOT_PENDING


# --- withdraw --------------------------------------------------------------------------


def test_withdraw_own_pending_record_removes_it_and_its_file(
    ministry, pending, django_capture_on_commit_callbacks
) -> None:
    path = Path(pending.evidence.path)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        cpd_withdraw(actor=ministry.users["teacher"], record=pending)
    assert not CpdRecord.objects.filter(pk=pending.pk).exists()
    assert not path.exists()
    event = AuditEvent.objects.filter(object_id=str(pending.pk)).latest("pk")
    assert event.action == AuditAction.DELETE


def test_only_own_pending_records_can_be_withdrawn(ministry, pending) -> None:
    with pytest.raises(PermissionDenied) as exc:
        cpd_withdraw(actor=ministry.users["head"], record=pending)
    assert code_of(exc) == CpdErrorCode.NOT_YOURS
    cpd_decide(actor=ministry.users["head"], record=pending, approve=True)
    with pytest.raises(ValidationError) as exc:
        cpd_withdraw(actor=ministry.users["teacher"], record=pending)
    assert code_of(exc) == CpdErrorCode.NOT_PENDING


# --- requirements ----------------------------------------------------------------------


def test_central_officers_set_and_replace_requirements(ministry) -> None:
    teacher = ministry.people["g1d1_teacher"].role
    assert teacher is not None
    central = ministry.users["central"]
    first = cpd_requirement_set(actor=central, role=teacher, year=2026, hours=Decimal(20))
    second = cpd_requirement_set(actor=central, role=teacher, year=2026, credits="3")
    assert first.pk == second.pk
    assert (second.hours, second.credits) == (None, Decimal(3))
    events = AuditEvent.objects.filter(object_type="training.cpdrequirement").order_by("pk")
    assert [e.action for e in events] == [AuditAction.CREATE, AuditAction.UPDATE]
    cpd_requirement_delete(actor=ministry.users["admin"], requirement=second)
    assert not CpdRequirement.objects.exists()


@pytest.mark.parametrize("username", ["gov1", "dist", "head", "teacher", "partner"])
def test_others_cannot_set_requirements(ministry, username) -> None:
    role = ministry.people["g1d1_teacher"].role
    with pytest.raises(PermissionDenied):
        cpd_requirement_set(actor=ministry.users[username], role=role, year=2026, hours=10)
    requirement = CpdRequirement.objects.create(role=role, year=2026, hours=Decimal(10))
    with pytest.raises(PermissionDenied):
        cpd_requirement_delete(actor=ministry.users[username], requirement=requirement)


@pytest.mark.parametrize(
    ("hours", "credits", "code"),
    [
        (None, None, "cpd_requirement_empty"),
        (0, "", "cpd_requirement_empty"),
        (-5, None, "cpd_requirement_out_of_range"),
        (5000, None, "cpd_requirement_out_of_range"),
    ],
)
def test_requirement_values_are_checked(ministry, hours, credits, code) -> None:
    role = ministry.people["g1d1_teacher"].role
    with pytest.raises(ValidationError) as exc:
        cpd_requirement_set(
            actor=ministry.users["central"], role=role, year=2026, hours=hours, credits=credits
        )
    assert code_of(exc) == code
    with pytest.raises(ValidationError):
        cpd_requirement_set(actor=ministry.users["central"], role=role, year=1999, hours=5)

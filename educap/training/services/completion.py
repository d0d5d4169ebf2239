"""What completing a course does: the enrolment is marked completed, an approved CPD
record is written, a certificate is issued, and — when the course says so — the course's
target level of each competency the learner is below is recorded as evidence from
training, which flows into current levels and the gap rollups.

Every route to a completion (a facilitator closing a session, an xAPI `completed` or
`passed` statement) ends here, so the effects cannot differ between routes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from educap.assessments.models import CurrentLevel, Source
from educap.assessments.services import EvidenceInput, evidence_record
from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.training.errors import TrainingErrorCode
from educap.training.models import (
    Certificate,
    CpdKind,
    CpdRecord,
    CpdStatus,
    Enrolment,
    EnrolmentStatus,
)

if TYPE_CHECKING:
    from educap.accounts.models import User


def issuer_name() -> str:
    return str(getattr(settings, "EDUCAP_CERTIFICATE_ISSUER", "") or _("Ministry of Education"))


@transaction.atomic
def enrolment_complete(
    *,
    actor: User | None,
    enrolment: Enrolment,
    completed_on: dt.date,
    attendance_percent: int | None = None,
    score: int | None = None,
) -> Certificate:
    """Record a successful completion and its effects. Returns the certificate."""
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if enrolment.status == EnrolmentStatus.COMPLETED:
        raise ValidationError(
            _("This enrolment is already completed."), code=TrainingErrorCode.ALREADY_COMPLETED
        )
    if enrolment.status not in (EnrolmentStatus.ENROLLED, EnrolmentStatus.NOT_COMPLETED):
        raise ValidationError(
            _("Only an enrolled participant can complete the course."),
            code=TrainingErrorCode.NOT_SEATED,
        )
    session = enrolment.session
    course = session.course
    person = enrolment.person
    enrolment.status = EnrolmentStatus.COMPLETED
    enrolment.attendance_percent = attendance_percent
    enrolment.score = score
    enrolment.passed = True
    enrolment.completed_at = timezone.now()
    enrolment.save(
        update_fields=["status", "attendance_percent", "score", "passed", "completed_at"]
    )
    CpdRecord.objects.update_or_create(
        enrolment=enrolment,
        defaults={
            "person": person,
            "kind": CpdKind.INTERNAL,
            "title": course.title,
            "provider": course.provider_name or issuer_name(),
            "completed_on": completed_on,
            "hours": course.duration_hours,
            "credits": course.cpd_credits,
            "status": CpdStatus.APPROVED,
            "decided_by": actor,
            "decided_at": timezone.now(),
        },
    )
    certificate = Certificate.objects.create(
        enrolment=enrolment,
        person=person,
        course=course,
        holder_name=f"{person.given_name} {person.family_name}",
        course_title=course.title,
        issuer_name=issuer_name(),
        completed_on=completed_on,
        hours=course.duration_hours,
        issued_by=actor,
    )
    if course.records_evidence:
        moment = timezone.make_aware(dt.datetime.combine(completed_on, dt.time(12)))
        links = list(course.competencies.all())
        current = dict(
            CurrentLevel.objects.filter(
                person=person, item_id__in=[link.item_id for link in links]
            ).values_list("item_id", "value")
        )
        # Evidence of what the course brings a learner to: where the person is already at
        # or above that level, a completion says nothing new (and, being the latest
        # evidence of its tier, would otherwise lower a better supervisor rating).
        evidence = [
            EvidenceInput(
                person_id=person.pk,
                item_id=link.item_id,
                source=Source.TRAINING,
                value=link.level,
                rated_at=min(moment, timezone.now()),
                comment=f"{course.code} / {session.code}",
            )
            for link in links
            if current.get(link.item_id) is None or current[link.item_id] < link.level
        ]
        if evidence:
            evidence_record(actor=actor, evidence=evidence)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=enrolment,
        after={"status": enrolment.status, "certificate": str(certificate.pk)},
    )
    return certificate

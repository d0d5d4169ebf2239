"""Writes for assessment campaigns: create, launch, close, remind, answer, record evidence."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import get_connection, send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from educap.accounts.models import GrantKind
from educap.accounts.scope import scope_for
from educap.assessments.consolidation import current_levels_refresh
from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    DraftRating,
    PeerChooser,
    RaterAssignment,
    Rating,
    Source,
)
from educap.assessments.signals import campaign_closed
from educap.audit.models import AuditAction
from educap.audit.services import audit_record, snapshot
from educap.core.errors import field_error
from educap.frameworks.models import FrameworkStatus, RoleProfile, ScaleLevel
from educap.people.models import Person

if TYPE_CHECKING:
    from educap.accounts.models import User


class AssessmentErrorCode(StrEnum):
    NOT_ALLOWED = "campaign_not_allowed"
    NOT_DRAFT = "campaign_not_draft"
    NOT_OPEN = "campaign_not_open"
    FRAMEWORK_NOT_PUBLISHED = "framework_not_published"
    NO_TARGET = "campaign_no_target"
    NOT_YOUR_ASSIGNMENT = "assignment_not_yours"
    ASSIGNMENT_CLOSED = "assignment_closed"
    UNKNOWN_COMPETENCY = "competency_not_in_assignment"
    LEVEL_NOT_ON_SCALE = "level_not_on_scale"
    INCOMPLETE = "assignment_incomplete"
    PEERS_NOT_ALLOWED = "peers_not_allowed"
    PEER_INVALID = "peer_invalid"


# Assignment kinds whose answers are competency ratings, and the rating source they give.
RATING_KINDS = {
    AssignmentKind.SELF: Source.SELF,
    AssignmentKind.SUPERVISOR: Source.SUPERVISOR,
    AssignmentKind.PEER: Source.PEER,
}

CAMPAIGN_FIELDS = (
    "code",
    "title_en",
    "title_ar",
    "title_fr",
    "title_lo",
    "description_en",
    "description_ar",
    "description_fr",
    "description_lo",
    "framework",
    "opens_on",
    "closes_on",
    "collect_self",
    "collect_supervisor",
    "collect_peer",
    "peer_count",
    "peer_chooser",
    "collect_test",
    "test_items_per_competency",
    "test_time_limit_minutes",
    "collect_survey",
    "survey",
    "supervisor_sees_self",
)


def campaign_manage_allowed(*, user: User | None) -> bool:
    """System administrators and central L&D officers run campaigns."""
    if user is None:
        return True
    scope = scope_for(user)
    return scope.is_admin or GrantKind.CENTRAL_OFFICER in scope.kinds


def _require_manager(actor: User | None) -> None:
    if not campaign_manage_allowed(user=actor):
        raise PermissionDenied(AssessmentErrorCode.NOT_ALLOWED)


def _require_status(campaign: Campaign, status: str, code: AssessmentErrorCode) -> None:
    if campaign.status != status:
        raise ValidationError(
            _("Campaign %(code)s is %(status)s.")
            % {"code": campaign.code, "status": campaign.get_status_display()},
            code=code,
        )


# --- campaigns -------------------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    actor: User | None,
    target_units: Iterable[Any] = (),
    target_roles: Iterable[Any] = (),
    target_people: Iterable[Any] = (),
    **fields: Any,
) -> Campaign:
    _require_manager(actor)
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"Unknown campaign fields: {sorted(unknown)}")
    campaign = Campaign(**fields, created_by=actor if actor and actor.pk else None)
    _check_framework(campaign)
    campaign.full_clean()
    campaign.save()
    campaign.target_units.set(list(target_units))
    campaign.target_roles.set(list(target_roles))
    campaign.target_people.set(list(target_people))
    audit_record(
        actor=actor, action=AuditAction.CREATE, instance=campaign, after=snapshot(campaign)
    )
    return campaign


@transaction.atomic
def campaign_update(
    *,
    actor: User | None,
    campaign: Campaign,
    target_units: Iterable[Any] | None = None,
    target_roles: Iterable[Any] | None = None,
    target_people: Iterable[Any] | None = None,
    **fields: Any,
) -> Campaign:
    """Draft campaigns change freely; an open one may only move its closing date or texts."""
    _require_manager(actor)
    before = snapshot(campaign)
    if campaign.status != CampaignStatus.DRAFT:
        frozen = set(fields) - {
            "closes_on",
            *[
                f
                for f in CAMPAIGN_FIELDS
                if "_" in f and (f.startswith(("title_", "description_")))
            ],
        }
        frozen |= {
            name
            for name, value in (
                ("target_units", target_units),
                ("target_roles", target_roles),
                ("target_people", target_people),
            )
            if value is not None
        }
        if frozen or campaign.status == CampaignStatus.CLOSED:
            raise ValidationError(
                _("A launched campaign keeps its framework, target and sources."),
                code=AssessmentErrorCode.NOT_DRAFT,
            )
    for name, value in fields.items():
        if name not in CAMPAIGN_FIELDS:
            raise TypeError(f"Unknown campaign field: {name}")
        setattr(campaign, name, value)
    _check_framework(campaign)
    campaign.full_clean()
    campaign.save()
    if target_units is not None:
        campaign.target_units.set(list(target_units))
    if target_roles is not None:
        campaign.target_roles.set(list(target_roles))
    if target_people is not None:
        campaign.target_people.set(list(target_people))
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=campaign,
        before=before,
        after=snapshot(campaign),
    )
    return campaign


def _check_framework(campaign: Campaign) -> None:
    if campaign.framework_id and campaign.framework.status != FrameworkStatus.PUBLISHED:
        raise field_error(
            "framework",
            _("Campaigns assess against a published framework version."),
            AssessmentErrorCode.FRAMEWORK_NOT_PUBLISHED,
        )


def campaign_target_people(*, campaign: Campaign) -> Any:
    """Active people the campaign targets (a queryset)."""
    units = list(campaign.target_units.all())
    roles = list(campaign.target_roles.values_list("pk", flat=True))
    named = list(campaign.target_people.values_list("pk", flat=True))
    broad = Q()
    if units:
        in_units = Q(pk__in=[])
        for unit in units:
            in_units |= Q(unit__path__startswith=unit.path)
        broad &= in_units
    if roles:
        broad &= Q(role_id__in=roles)
    if not units and not roles:
        broad = Q(pk__in=[]) if named else Q()
    return Person.objects.filter(is_active=True).filter(broad | Q(pk__in=named))


@dataclass(frozen=True)
class LaunchResult:
    people: int
    assignments: int
    without_profile: int
    without_supervisor: int


@transaction.atomic
def campaign_launch(*, actor: User | None, campaign: Campaign) -> LaunchResult:
    """Open the campaign: one assignment per rater → ratee → kind, decided by role profiles."""
    _require_manager(actor)
    # Lock the row so that two launches cannot both create assignments.
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
    campaign.refresh_from_db()
    _require_status(campaign, CampaignStatus.DRAFT, AssessmentErrorCode.NOT_DRAFT)
    _check_framework(campaign)
    profiles = dict(
        RoleProfile.objects.filter(framework=campaign.framework, role__isnull=False).values_list(
            "role_id", "pk"
        )
    )
    kinds = campaign.kinds
    people = campaign_target_people(campaign=campaign).values_list(
        "pk", "unit_id", "role_id", "supervisor_id"
    )
    batch: list[RaterAssignment] = []
    counts = {"people": 0, "assignments": 0, "without_profile": 0, "without_supervisor": 0}
    for person_id, unit_id, role_id, supervisor_id in people.iterator(chunk_size=5000):
        counts["people"] += 1
        profile_id = profiles.get(role_id)
        if profile_id is None:
            counts["without_profile"] += 1

        raters: list[tuple[str, int]] = []
        if profile_id is not None:
            if AssignmentKind.SELF in kinds:
                raters.append((AssignmentKind.SELF, person_id))
            if AssignmentKind.SUPERVISOR in kinds:
                if supervisor_id is None:
                    counts["without_supervisor"] += 1
                else:
                    raters.append((AssignmentKind.SUPERVISOR, supervisor_id))
            if AssignmentKind.TEST in kinds:
                raters.append((AssignmentKind.TEST, person_id))
        if AssignmentKind.SURVEY in kinds:
            raters.append((AssignmentKind.SURVEY, person_id))
        batch.extend(
            RaterAssignment(
                campaign_id=campaign.pk,
                kind=kind,
                ratee_id=person_id,
                rater_id=rater_id,
                unit_id=unit_id,
                role_id=role_id,
                profile_id=profile_id,
            )
            for kind, rater_id in raters
        )
        if len(batch) >= 5000:
            counts["assignments"] += len(batch)
            RaterAssignment.objects.bulk_create(batch)
            batch = []
    counts["assignments"] += len(batch)
    RaterAssignment.objects.bulk_create(batch)
    if counts["people"] == 0:
        raise ValidationError(
            _("Nobody matches the campaign's target: choose units, roles or people."),
            code=AssessmentErrorCode.NO_TARGET,
        )
    campaign.status = CampaignStatus.OPEN
    campaign.launched_at = timezone.now()
    campaign.save(update_fields=["status", "launched_at", "updated_at"])
    result = LaunchResult(**counts)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=campaign,
        before={"status": CampaignStatus.DRAFT},
        after={"status": CampaignStatus.OPEN, **counts},
    )
    return result


@transaction.atomic
def campaign_close(*, actor: User | None, campaign: Campaign) -> Campaign:
    """Stop new answers. Drafts stay for the record but never become evidence."""
    _require_manager(actor)
    _require_status(campaign, CampaignStatus.OPEN, AssessmentErrorCode.NOT_OPEN)
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = timezone.now()
    campaign.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=campaign,
        before={"status": CampaignStatus.OPEN},
        after={"status": CampaignStatus.CLOSED},
    )
    campaign_closed.send(sender=Campaign, campaign_id=campaign.pk)
    return campaign


def campaign_remind(
    *, actor: User | None, campaign: Campaign, unit_path: str = "", base_url: str = ""
) -> int:
    """E-mail every rater with unfinished work in the campaign (one mail each). Returns sent."""
    _require_manager(actor)
    _require_status(campaign, CampaignStatus.OPEN, AssessmentErrorCode.NOT_OPEN)
    pending = RaterAssignment.objects.filter(
        campaign=campaign, status__in=[AssignmentStatus.INVITED, AssignmentStatus.STARTED]
    )
    if unit_path:
        pending = pending.filter(unit__path__startswith=unit_path)
    per_rater: dict[int, int] = defaultdict(int)
    for rater_id in pending.values_list("rater_id", flat=True).iterator(chunk_size=5000):
        per_rater[rater_id] += 1
    raters = Person.objects.filter(pk__in=list(per_rater)).exclude(email="")
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for rater in raters.iterator(chunk_size=2000):
            subject = _("Reminder: %(campaign)s closes on %(date)s") % {
                "campaign": campaign.title,
                "date": campaign.closes_on.isoformat(),
            }
            body = _(
                "Dear %(name)s,\n\nYou have %(count)s unfinished assessment(s) in "
                "%(campaign)s. Please complete them before %(date)s:\n%(url)s\n"
            ) % {
                "name": rater.full_name,
                "count": per_rater[rater.pk],
                "campaign": campaign.title,
                "date": campaign.closes_on.isoformat(),
                "url": f"{base_url}/assessments/mine/",
            }
            messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [rater.email]))
    sent = send_mass_mail(messages, fail_silently=False, connection=get_connection())
    pending.filter(rater_id__in=[r.pk for r in raters]).update(reminded_at=timezone.now())
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=campaign,
        after={"reminders_sent": sent},
    )
    return sent


# --- peers -----------------------------------------------------------------------------


@transaction.atomic
def peers_nominate(
    *, actor: User | None, campaign: Campaign, ratee: Person, peers: Sequence[Person]
) -> list[RaterAssignment]:
    """Name the peers who rate `ratee` (by the person or the supervisor, per campaign)."""
    if not campaign.collect_peer:
        raise ValidationError(
            _("This campaign does not collect peer ratings."),
            code=AssessmentErrorCode.PEERS_NOT_ALLOWED,
        )
    _require_status(campaign, CampaignStatus.OPEN, AssessmentErrorCode.NOT_OPEN)
    person_id = getattr(actor, "person_id", None) if actor is not None else None
    chooser_ok = actor is None or campaign_manage_allowed(user=actor)
    if campaign.peer_chooser == PeerChooser.PERSON:
        chooser_ok = chooser_ok or person_id == ratee.pk
    else:
        chooser_ok = chooser_ok or (person_id is not None and person_id == ratee.supervisor_id)
    if not chooser_ok:
        raise PermissionDenied(AssessmentErrorCode.NOT_ALLOWED)
    anchor = (
        RaterAssignment.objects.filter(campaign=campaign, ratee=ratee)
        .exclude(kind=AssignmentKind.SURVEY)
        .first()
    )
    if anchor is None or anchor.profile_id is None:
        raise ValidationError(
            _("%(name)s is not rated in this campaign.") % {"name": ratee.full_name},
            code=AssessmentErrorCode.PEER_INVALID,
        )
    chosen = {p.pk: p for p in peers}
    if ratee.pk in chosen or ratee.supervisor_id in chosen:
        raise field_error(
            "peers",
            _("Peers are colleagues other than the person and their supervisor."),
            AssessmentErrorCode.PEER_INVALID,
        )
    existing = RaterAssignment.objects.filter(
        campaign=campaign, ratee=ratee, kind=AssignmentKind.PEER
    )
    kept = set(existing.values_list("rater_id", flat=True))
    if len(kept | set(chosen)) > campaign.peer_count:
        raise field_error(
            "peers",
            _("Choose at most %(count)s peers.") % {"count": campaign.peer_count},
            AssessmentErrorCode.PEER_INVALID,
        )
    created = RaterAssignment.objects.bulk_create(
        [
            RaterAssignment(
                campaign=campaign,
                kind=AssignmentKind.PEER,
                ratee=ratee,
                rater_id=peer_id,
                unit_id=anchor.unit_id,
                role_id=anchor.role_id,
                profile_id=anchor.profile_id,
            )
            for peer_id in chosen
            if peer_id not in kept
        ]
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=campaign,
        object_repr=f"{campaign.code}: peers of {ratee.staff_number}",
        after={"peers": sorted(chosen)},
    )
    return created


# --- answering -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    item_id: int
    level_value: int | None  # None: the rater cannot judge this competency
    comment: str = ""
    evidence: str = ""


def _require_rater(actor: User | None, assignment: RaterAssignment) -> None:
    if actor is None:
        return
    if getattr(actor, "person_id", None) != assignment.rater_id:
        raise PermissionDenied(AssessmentErrorCode.NOT_YOUR_ASSIGNMENT)


def _require_open(assignment: RaterAssignment) -> None:
    if not assignment.is_open:
        raise ValidationError(
            _("This assessment is closed or already submitted."),
            code=AssessmentErrorCode.ASSIGNMENT_CLOSED,
        )


def _levels(assignment: RaterAssignment) -> dict[int, ScaleLevel]:
    scale_id = assignment.campaign.framework.scale_id
    return {level.value: level for level in ScaleLevel.objects.filter(scale_id=scale_id)}


def _competency_ids(assignment: RaterAssignment) -> set[int]:
    from educap.assessments.selectors import assignment_competencies

    return {c.item.pk for c in assignment_competencies(assignment=assignment)}


def _mark_started(assignment: RaterAssignment) -> None:
    if assignment.status == AssignmentStatus.INVITED:
        assignment.status = AssignmentStatus.STARTED
        assignment.started_at = timezone.now()
        assignment.save(update_fields=["status", "started_at"])


@transaction.atomic
def draft_save(
    *, actor: User | None, assignment: RaterAssignment, answers: Sequence[Answer]
) -> None:
    """Keep answers while the rater works; they become evidence only on submit."""
    _require_rater(actor, assignment)
    _require_open(assignment)
    levels = _levels(assignment)
    allowed = _competency_ids(assignment)
    for answer in answers:
        if answer.item_id not in allowed:
            raise field_error(
                "item",
                _("This competency is not part of the assessment."),
                AssessmentErrorCode.UNKNOWN_COMPETENCY,
            )
        if answer.level_value is not None and answer.level_value not in levels:
            raise field_error(
                "level",
                _("Level %(value)s is not on the framework's scale.")
                % {"value": answer.level_value},
                AssessmentErrorCode.LEVEL_NOT_ON_SCALE,
            )
        DraftRating.objects.update_or_create(
            assignment=assignment,
            item_id=answer.item_id,
            defaults={
                "level": levels.get(answer.level_value) if answer.level_value is not None else None,
                "comment": answer.comment.strip(),
                "evidence": answer.evidence.strip(),
            },
        )
    _mark_started(assignment)


@transaction.atomic
def assignment_submit(
    *, actor: User | None, assignment: RaterAssignment, answers: Sequence[Answer] = ()
) -> list[Rating]:
    """Turn the saved answers (plus any given here) into evidence; refresh current levels."""
    assignment = RaterAssignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.kind not in RATING_KINDS:
        raise ValidationError(
            _("Tests and surveys are submitted from their own forms."),
            code=AssessmentErrorCode.ASSIGNMENT_CLOSED,
        )
    if answers:
        draft_save(actor=actor, assignment=assignment, answers=answers)
    _require_rater(actor, assignment)
    _require_open(assignment)
    drafts = {
        d.item_id: d
        for d in DraftRating.objects.filter(assignment=assignment).select_related("level")
    }
    missing = _competency_ids(assignment) - set(drafts)
    if missing:
        raise ValidationError(
            _("%(count)s competencies still need an answer.") % {"count": len(missing)},
            code=AssessmentErrorCode.INCOMPLETE,
        )
    now = timezone.now()
    ratings = [
        Rating(
            person_id=assignment.ratee_id,
            item_id=item_id,
            source=RATING_KINDS[AssignmentKind(assignment.kind)],
            value=draft.level.value,
            rater_id=assignment.rater_id,
            campaign_id=assignment.campaign_id,
            assignment=assignment,
            rated_at=now,
            comment=draft.comment,
            evidence=draft.evidence,
        )
        for item_id, draft in sorted(drafts.items())
        if draft.level is not None
    ]
    Rating.objects.bulk_create(ratings)
    DraftRating.objects.filter(assignment=assignment).delete()
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.submitted_at = now
    assignment.started_at = assignment.started_at or now
    assignment.save(update_fields=["status", "submitted_at", "started_at"])
    current_levels_refresh(person_ids=[assignment.ratee_id])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=assignment,
        after={"status": AssignmentStatus.SUBMITTED, "ratings": len(ratings)},
    )
    return ratings


@dataclass(frozen=True)
class EvidenceInput:
    person_id: int
    item_id: int
    source: str
    value: int
    rated_at: dt.datetime
    rater_id: int | None = None
    campaign_id: int | None = None
    comment: str = ""
    evidence: str = ""


@transaction.atomic
def evidence_record(*, actor: User | None, evidence: Sequence[EvidenceInput]) -> list[Rating]:
    """Record evidence from elsewhere (tests, training, external assessments)."""
    ratings = Rating.objects.bulk_create(
        [
            Rating(
                person_id=e.person_id,
                item_id=e.item_id,
                source=e.source,
                value=e.value,
                rated_at=e.rated_at,
                rater_id=e.rater_id,
                campaign_id=e.campaign_id,
                comment=e.comment,
                evidence=e.evidence,
            )
            for e in evidence
        ]
    )
    current_levels_refresh(pairs={(e.person_id, e.item_id) for e in evidence})
    if ratings:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="assessments.rating",
            object_repr=f"{len(ratings)} ratings",
            after={"ratings": len(ratings), "sources": sorted({e.source for e in evidence})},
        )
    return ratings

"""Reads for assessments, always limited to what the caller may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from educap.accounts.scope import scope_for
from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    CurrentLevel,
    DraftRating,
    RaterAssignment,
    Rating,
    Source,
)
from educap.assessments.services import AssessmentErrorCode, campaign_manage_allowed
from educap.frameworks.models import FrameworkItem, LevelIndicator, ScaleLevel
from educap.frameworks.selectors import profile_requirements
from educap.org.models import OrgUnit

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User
    from educap.people.models import Person


# --- campaigns -------------------------------------------------------------------------


def campaign_list(
    *, user: User | AnonymousUser, search: str = "", status: str = ""
) -> QuerySet[Campaign]:
    """Managers see every campaign; others see the campaigns they take part in."""
    campaigns = Campaign.objects.select_related("framework")
    if not campaign_manage_allowed(user=user):  # type: ignore[arg-type]
        scope = scope_for(user)
        visible = Q(assignments__rater_id=scope.person_id) if scope.person_id else Q(pk__in=[])
        for path in scope.subtree_paths + scope.aggregate_paths:
            visible |= Q(assignments__unit__path__startswith=path)
        campaigns = campaigns.filter(pk__in=Campaign.objects.filter(visible).values("pk")).exclude(
            status=CampaignStatus.DRAFT
        )
    if search.strip():
        term = search.strip()
        campaigns = campaigns.filter(Q(code__icontains=term) | Q(title__icontains=term))
    if status:
        campaigns = campaigns.filter(status=status)
    return campaigns


def campaign_get(*, user: User | AnonymousUser, code: str) -> Campaign:
    try:
        return campaign_list(user=user).get(code=code)
    except Campaign.DoesNotExist as exc:
        raise Http404 from exc


# --- what a rater has to do ------------------------------------------------------------


def my_assignments(*, user: User | AnonymousUser) -> QuerySet[RaterAssignment]:
    person_id = scope_for(user).person_id
    if person_id is None:
        return RaterAssignment.objects.none()
    return (
        RaterAssignment.objects.filter(rater_id=person_id)
        .exclude(status=AssignmentStatus.WITHDRAWN)
        .exclude(campaign__status=CampaignStatus.DRAFT)
        .select_related("campaign", "ratee", "ratee__unit", "role")
        .order_by("-campaign__status", "campaign__closes_on", "kind", "ratee__family_name")
    )


def assignment_get(*, user: User | AnonymousUser, pk: int) -> RaterAssignment:
    """An assignment its rater may answer; 404 for everyone else."""
    try:
        return my_assignments(user=user).select_related("campaign__framework", "profile").get(pk=pk)
    except RaterAssignment.DoesNotExist as exc:
        raise Http404 from exc


@dataclass
class CompetencyToRate:
    item: FrameworkItem
    domain: FrameworkItem | None
    required: ScaleLevel
    weight: int
    # Behavioural indicator text per level value.
    indicators: dict[int, str] = field(default_factory=dict)


def assignment_competencies(*, assignment: RaterAssignment) -> list[CompetencyToRate]:
    """The competencies the ratee's role profile requires, in framework order."""
    if assignment.profile is None or assignment.kind == AssignmentKind.SURVEY:
        return []
    requirements = profile_requirements(profile=assignment.profile)
    items = (
        FrameworkItem.objects.filter(pk__in=list(requirements))
        .select_related("parent")
        .prefetch_related(
            Prefetch("indicators", queryset=LevelIndicator.objects.select_related("level"))
        )
    )
    rows = [
        CompetencyToRate(
            item=item,
            domain=item.parent,
            required=requirements[item.pk].level,
            weight=requirements[item.pk].weight,
            indicators={ind.level.value: ind.text for ind in item.indicators.all()},
        )
        for item in items
    ]
    return sorted(
        rows,
        key=lambda r: (
            r.domain.sequence if r.domain else -1,
            r.domain.pk if r.domain else 0,
            r.item.sequence,
            r.item.pk,
        ),
    )


def assignment_drafts(*, assignment: RaterAssignment) -> dict[int, DraftRating]:
    return {
        d.item_id: d
        for d in DraftRating.objects.filter(assignment=assignment).select_related("level")
    }


def self_ratings_for_supervisor(*, assignment: RaterAssignment) -> dict[int, Rating]:
    """The ratee's submitted self ratings in this campaign, when the campaign shows them."""
    if assignment.kind != AssignmentKind.SUPERVISOR or not assignment.campaign.supervisor_sees_self:
        return {}
    ratings = Rating.objects.filter(
        campaign_id=assignment.campaign_id, person_id=assignment.ratee_id, source=Source.SELF
    ).order_by("rated_at")
    return {r.item_id: r for r in ratings}


def team_assignments(
    *, user: User | AnonymousUser, campaign: Campaign
) -> QuerySet[RaterAssignment]:
    """A supervisor's ratings to give in one campaign (the team screen)."""
    return my_assignments(user=user).filter(campaign=campaign, kind=AssignmentKind.SUPERVISOR)


# --- progress --------------------------------------------------------------------------


@dataclass
class ProgressRow:
    unit: OrgUnit | None
    invited: int = 0
    started: int = 0
    submitted: int = 0
    # kind -> [invited, submitted]
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def percent(self) -> float:
        return 100.0 * self.submitted / self.invited if self.invited else 0.0


def progress_allowed(*, user: User | AnonymousUser, unit: OrgUnit | None) -> bool:
    if campaign_manage_allowed(user=user):  # type: ignore[arg-type]
        return True
    return unit is not None and scope_for(user).can_see_aggregates_of(unit)


def campaign_progress(
    *, user: User | AnonymousUser, campaign: Campaign, unit: OrgUnit | None = None
) -> tuple[ProgressRow, list[ProgressRow]]:
    """Totals for `unit` (the whole campaign when None) and one row per child unit,
    furthest behind first. Two queries, whatever the size of the subtree."""
    if not progress_allowed(user=user, unit=unit):
        raise PermissionDenied(AssessmentErrorCode.NOT_ALLOWED)
    assignments = RaterAssignment.objects.filter(campaign=campaign).exclude(
        status=AssignmentStatus.WITHDRAWN
    )
    if unit is not None:
        assignments = assignments.filter(unit__path__startswith=unit.path)
        children = list(OrgUnit.objects.filter(parent=unit).select_related("level"))
        depth = unit.depth + 1
    else:
        children = list(OrgUnit.objects.filter(parent__isnull=True).select_related("level"))
        depth = 0
    child_by_path = {child.path: child for child in children}
    total = ProgressRow(unit=unit)
    rows: dict[str, ProgressRow] = {path: ProgressRow(unit=c) for path, c in child_by_path.items()}
    counts = assignments.values("unit__path", "kind", "status").annotate(n=Count("id"))
    for row in counts.order_by():
        path = row["unit__path"] or ""
        prefix = "/".join(path.split("/")[: depth + 1]) + "/" if path else ""
        targets = [total]
        if prefix in rows:
            targets.append(rows[prefix])
        for target in targets:
            n = row["n"]
            target.invited += n
            target.by_kind[row["kind"]][0] += n
            if row["status"] == AssignmentStatus.STARTED:
                target.started += n
            elif row["status"] == AssignmentStatus.SUBMITTED:
                target.started += n
                target.submitted += n
                target.by_kind[row["kind"]][1] += n
    ordered = sorted(
        (r for r in rows.values() if r.invited),
        key=lambda r: (r.percent, -r.invited, r.unit.name if r.unit else ""),
    )
    return total, ordered


# --- current levels --------------------------------------------------------------------


def person_current_levels(*, user: User | AnonymousUser, person: Person) -> QuerySet[CurrentLevel]:
    if not scope_for(user).can_read_person(person):
        raise PermissionDenied(AssessmentErrorCode.NOT_ALLOWED)
    return CurrentLevel.objects.filter(person=person).select_related("item")


def person_ratings(*, user: User | AnonymousUser, person: Person) -> QuerySet[Rating]:
    """Evidence about a person. Peer raters stay anonymous to the person rated."""
    scope = scope_for(user)
    if not scope.can_read_person(person):
        raise PermissionDenied(AssessmentErrorCode.NOT_ALLOWED)
    ratings = Rating.objects.filter(person=person).select_related("item", "campaign")
    if scope.person_id == person.pk and not scope.is_admin:
        return ratings.defer("rater")
    return ratings.select_related("rater")

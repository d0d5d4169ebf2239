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

    @property
    def percent_step(self) -> int:
        """The percentage rounded to 5, for progress-bar width classes (no inline styles)."""
        return int(5 * round(self.percent / 5))

    @property
    def kinds(self) -> list[tuple[str, int, int, int]]:
        """(kind, invited, submitted, percent) per source, for templates."""
        return [
            (kind, n, done, round(100 * done / n) if n else 0)
            for kind, (n, done) in self.by_kind.items()
        ]


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


# --- web screens -----------------------------------------------------------------------


@dataclass(frozen=True)
class LaunchPreview:
    people: int
    without_profile: int
    kinds: list[str]


def launch_preview(*, campaign: Campaign) -> LaunchPreview:
    """What launching would do, for the confirmation page (two queries)."""
    from educap.assessments.services import campaign_target_people
    from educap.frameworks.models import RoleProfile

    people = campaign_target_people(campaign=campaign)
    profiled = RoleProfile.objects.filter(
        framework_id=campaign.framework_id, role__isnull=False
    ).values("role_id")
    return LaunchPreview(
        people=people.count(),
        without_profile=people.exclude(role_id__in=profiled).count(),
        kinds=campaign.kinds,
    )


@dataclass
class TeamCell:
    competency: CompetencyToRate
    draft: DraftRating | None = None
    self_rating: Rating | None = None


@dataclass
class TeamRow:
    assignment: RaterAssignment
    cells: dict[int, TeamCell]
    # (column, cell or None when the person's profile lacks that competency), in column order.
    ordered: list[tuple[CompetencyToRate, TeamCell | None]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return bool(self.cells) and all(c.draft is not None for c in self.cells.values())

    @property
    def answered(self) -> int:
        return sum(1 for c in self.cells.values() if c.draft is not None)


def team_grid(
    *, assignments: list[RaterAssignment]
) -> tuple[list[CompetencyToRate], list[TeamRow]]:
    """Columns (every competency any team member is rated on) and one row per assignment.

    Queries grow with the number of distinct role profiles in the team, not its size.
    """
    by_profile: dict[int, list[CompetencyToRate]] = {}
    for assignment in assignments:
        if assignment.profile_id is not None and assignment.profile_id not in by_profile:
            by_profile[assignment.profile_id] = assignment_competencies(assignment=assignment)
    ids = [a.pk for a in assignments]
    drafts: dict[tuple[int, int], DraftRating] = {
        (d.assignment_id, d.item_id): d
        for d in DraftRating.objects.filter(assignment_id__in=ids).select_related("level")
    }
    shown = [a for a in assignments if a.campaign.supervisor_sees_self]
    own: dict[tuple[int, int], Rating] = {}
    if shown:
        for rating in Rating.objects.filter(
            campaign_id=shown[0].campaign_id,
            person_id__in=[a.ratee_id for a in shown],
            source=Source.SELF,
        ).order_by("rated_at"):
            own[(rating.person_id, rating.item_id)] = rating
    columns: dict[int, CompetencyToRate] = {}
    rows = []
    for assignment in assignments:
        competencies = by_profile.get(assignment.profile_id or 0, [])
        cells = {}
        for competency in competencies:
            columns.setdefault(competency.item.pk, competency)
            cells[competency.item.pk] = TeamCell(
                competency=competency,
                draft=drafts.get((assignment.pk, competency.item.pk)),
                self_rating=own.get((assignment.ratee_id, competency.item.pk))
                if assignment.campaign.supervisor_sees_self
                else None,
            )
        rows.append(TeamRow(assignment=assignment, cells=cells))
    ordered = sorted(
        columns.values(),
        key=lambda r: (
            r.domain.sequence if r.domain else -1,
            r.domain.pk if r.domain else 0,
            r.item.sequence,
            r.item.pk,
        ),
    )
    for row in rows:
        row.ordered = [(c, row.cells.get(c.item.pk)) for c in ordered]
    return ordered, rows


@dataclass(frozen=True)
class PeerChoice:
    campaign_id: int
    ratee: Person
    nominated: int


def peer_choices(*, user: User | AnonymousUser) -> list[PeerChoice]:
    """The people whose peers this user chooses in open campaigns (two queries)."""
    from educap.assessments.models import PeerChooser

    person_id = scope_for(user).person_id
    if person_id is None:
        return []
    anchors = (
        RaterAssignment.objects.filter(
            campaign__status=CampaignStatus.OPEN,
            campaign__collect_peer=True,
            profile__isnull=False,
        )
        .exclude(kind=AssignmentKind.SURVEY)
        .exclude(status=AssignmentStatus.WITHDRAWN)
        .filter(
            Q(campaign__peer_chooser=PeerChooser.PERSON, ratee_id=person_id)
            | Q(campaign__peer_chooser=PeerChooser.SUPERVISOR, ratee__supervisor_id=person_id)
        )
        .select_related("ratee")
        .order_by("campaign_id", "ratee__family_name", "ratee_id")
    )
    seen: dict[tuple[int, int], Person] = {}
    for anchor in anchors:
        seen.setdefault((anchor.campaign_id, anchor.ratee_id), anchor.ratee)
    if not seen:
        return []
    counts = {
        (row["campaign_id"], row["ratee_id"]): row["n"]
        for row in RaterAssignment.objects.filter(
            kind=AssignmentKind.PEER,
            campaign_id__in={c for c, _r in seen},
            ratee_id__in={r for _c, r in seen},
        )
        .values("campaign_id", "ratee_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    return [
        PeerChoice(campaign_id=c, ratee=ratee, nominated=counts.get((c, r), 0))
        for (c, r), ratee in seen.items()
    ]


def peer_choice_get(*, user: User | AnonymousUser, campaign: Campaign, ratee_id: int) -> PeerChoice:
    """One ratee whose peers this user chooses; 404 for anyone else."""
    for choice in peer_choices(user=user):
        if choice.campaign_id == campaign.pk and choice.ratee.pk == ratee_id:
            return choice
    raise Http404


def peer_nominees(*, campaign: Campaign, ratee: Person) -> QuerySet[Person]:
    """Peers already named for `ratee` (shown to the chooser only, never with their answers)."""
    from educap.people.models import Person as PersonModel

    rater_ids = RaterAssignment.objects.filter(
        campaign=campaign, ratee=ratee, kind=AssignmentKind.PEER
    ).values("rater_id")
    return PersonModel.objects.filter(pk__in=rater_ids).select_related("unit")


def peer_pool(
    *, user: User | AnonymousUser, ratee: Person, whole_scope: bool = False, search: str = ""
) -> QuerySet[Person]:
    """Colleagues who may rate `ratee`: in the ratee's unit subtree, or anyone the user sees."""
    from educap.people.models import Person as PersonModel

    people = PersonModel.objects.filter(is_active=True).exclude(pk=ratee.pk)
    if ratee.supervisor_id:
        people = people.exclude(pk=ratee.supervisor_id)
    if whole_scope:
        people = people.filter(scope_for(user).person_q())
    elif ratee.unit is not None:
        people = people.filter(unit__path__startswith=ratee.unit.path)
    else:
        return PersonModel.objects.none()
    term = search.strip()
    if term:
        people = people.filter(
            Q(staff_number__iexact=term)
            | Q(given_name__icontains=term)
            | Q(family_name__icontains=term)
            | Q(name_local__icontains=term)
        )
    return people.select_related("unit").order_by("family_name", "given_name")


def progress_start_unit(*, user: User | AnonymousUser) -> OrgUnit | None:
    """Where a progress dashboard opens: the whole ministry for managers, else the user's unit."""
    if campaign_manage_allowed(user=user):  # type: ignore[arg-type]
        return None
    scope = scope_for(user)
    paths = scope.subtree_paths + scope.aggregate_paths
    if not paths:
        return None
    return OrgUnit.objects.select_related("level").filter(path=min(paths, key=len)).first()

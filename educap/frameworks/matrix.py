"""Reads for the role-profile matrix and the profiles API: every profile of a framework with
its own and inherited requirements, in a fixed number of queries whatever the size.

`selectors.profile_requirements` answers for one profile (a query per profile); the grid and
the API need all of them at once, so the inheritance is resolved here in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from educap.frameworks.models import (
    Framework,
    FrameworkItem,
    Importance,
    ItemKind,
    ProficiencyScale,
    Requirement,
    RoleProfile,
    ScaleLevel,
)
from educap.frameworks.selectors import EffectiveRequirement, TreeNode, flatten, item_tree


def profile_chain(profile: RoleProfile, by_id: dict[int, RoleProfile]) -> list[RoleProfile]:
    """The profile then its bases, closest first (stops on a cycle instead of looping)."""
    chain: list[RoleProfile] = []
    current: RoleProfile | None = profile
    while current is not None and current not in chain:
        chain.append(current)
        current = by_id.get(current.base_id) if current.base_id else None
    return chain


@dataclass
class ProfileRequirements:
    profile: RoleProfile
    base: RoleProfile | None
    own: dict[int, Requirement]  # item id -> the profile's own requirement
    effective: dict[int, EffectiveRequirement]  # item id -> what applies, own or inherited
    items: dict[int, FrameworkItem]  # every required item of the framework, shared

    def own_rows(self) -> list[tuple[FrameworkItem, EffectiveRequirement]]:
        return sorted(
            (
                (self.items[item_id], self.effective[item_id])
                for item_id in self.own
                if item_id in self.effective
            ),
            key=lambda row: row[0].code,
        )

    def effective_rows(self) -> list[tuple[FrameworkItem, EffectiveRequirement]]:
        return sorted(
            ((self.items[item_id], req) for item_id, req in self.effective.items()),
            key=lambda row: row[0].code,
        )


def framework_profiles(
    *, framework: Framework, item: FrameworkItem | None = None
) -> list[ProfileRequirements]:
    """Every profile with own and effective requirements (two queries), optionally for one item.

    Same rule as `selectors.profile_requirements`: the closest profile in the chain wins.
    """
    profiles = list(
        RoleProfile.objects.filter(framework=framework).select_related("role").order_by("code")
    )
    by_id = {p.pk: p for p in profiles}
    own: dict[int, dict[int, Requirement]] = {p.pk: {} for p in profiles}
    items: dict[int, FrameworkItem] = {}
    requirements = Requirement.objects.filter(profile__framework=framework).select_related(
        "level", "item"
    )
    if item is not None:
        requirements = requirements.filter(item=item)
    for requirement in requirements:
        own.setdefault(requirement.profile_id, {})[requirement.item_id] = requirement
        items[requirement.item_id] = requirement.item
    result = []
    for profile in profiles:
        effective: dict[int, EffectiveRequirement] = {}
        for ancestor in reversed(profile_chain(profile, by_id)):
            for item_id, requirement in own[ancestor.pk].items():
                effective[item_id] = EffectiveRequirement(
                    item_id, requirement.level, requirement.weight, ancestor.code
                )
        base = by_id.get(profile.base_id) if profile.base_id else None
        result.append(ProfileRequirements(profile, base, own[profile.pk], effective, items))
    return result


def framework_counts(*, framework: Framework) -> dict[str, int]:
    """Domains, competencies, profiles and requirements of one framework (three queries)."""
    items = FrameworkItem.objects.filter(framework=framework).aggregate(
        domains=Count("pk", filter=Q(kind=ItemKind.DOMAIN)),
        competencies=Count("pk", filter=Q(kind=ItemKind.COMPETENCY)),
    )
    return {
        "domains": items["domains"],
        "competencies": items["competencies"],
        "profiles": RoleProfile.objects.filter(framework=framework).count(),
        "requirements": Requirement.objects.filter(profile__framework=framework).count(),
    }


# --- the grid -------------------------------------------------------------------------------


@dataclass
class MatrixCell:
    profile: RoleProfile
    item: FrameworkItem
    own: Requirement | None
    inherited: EffectiveRequirement | None  # only when the profile has no requirement of its own
    level_rank: int = 0  # position of the level in the scale, for the colour

    @property
    def level(self) -> ScaleLevel | None:
        if self.own is not None:
            return self.own.level
        return self.inherited.level if self.inherited is not None else None

    @property
    def weight(self) -> int | None:
        if self.own is not None:
            return self.own.weight
        return self.inherited.weight if self.inherited is not None else None

    @property
    def is_critical(self) -> bool:
        return self.weight == Importance.CRITICAL

    @property
    def weight_label(self) -> str:
        weight = self.weight
        return str(Importance(weight).label) if weight in Importance.values else ""

    @property
    def colour(self) -> int:
        """Colour class of the level: its position in the scale, capped for long scales."""
        return min(self.level_rank, 5)

    @property
    def weight_marker(self) -> str:
        weight = self.weight
        if weight is None:
            return ""
        return "★" if weight == Importance.CRITICAL else "●" * weight


@dataclass
class MatrixRow:
    node: TreeNode
    cells: list[MatrixCell]


@dataclass
class MatrixGroup:
    """A domain heading and the competencies directly under it (sub-domains get their own)."""

    heading: TreeNode | None
    rows: list[MatrixRow] = field(default_factory=list)


@dataclass
class Matrix:
    profiles: list[ProfileRequirements]
    groups: list[MatrixGroup]
    domains: list[TreeNode]  # every domain, for the filter
    levels: list[ScaleLevel]
    shown: int  # competencies shown after filtering
    total: int  # competencies in the framework
    domain_id: int | None = None  # the domain filter, when it names a domain of the framework


def _keep(node: TreeNode, term: str) -> bool:
    """Same rule as `item_tree(search=...)`: matches and their ancestors stay."""
    node.children = [child for child in node.children if _keep(child, term)]
    text = f"{node.item.code} {node.item.statement} {node.item.keywords}".lower()
    return bool(node.children) or term in text


def _nearest_domain(node: TreeNode, by_id: dict[int, TreeNode]) -> TreeNode | None:
    current = by_id.get(node.item.parent_id) if node.item.parent_id else None
    while current is not None and current.item.kind != ItemKind.DOMAIN:
        current = by_id.get(current.item.parent_id) if current.item.parent_id else None
    return current


def _rank(levels: list[ScaleLevel]) -> dict[int, int]:
    return {level.pk: index for index, level in enumerate(levels)}


def matrix_cell(
    *,
    entry: ProfileRequirements,
    item: FrameworkItem,
    ranks: dict[int, int],
) -> MatrixCell:
    own = entry.own.get(item.pk)
    inherited = None if own is not None else entry.effective.get(item.pk)
    cell = MatrixCell(entry.profile, item, own, inherited)
    level = cell.level
    cell.level_rank = ranks.get(level.pk, 0) if level is not None else 0
    return cell


def matrix_build(
    *,
    framework: Framework,
    levels: list[ScaleLevel],
    domain_id: int | None = None,
    search: str = "",
) -> Matrix:
    """Competencies (rows, grouped by domain) x profiles (columns); a fixed number of queries."""
    roots = item_tree(framework=framework)
    everything = flatten(roots)
    domains = [node for node in everything if node.item.kind == ItemKind.DOMAIN]
    total = sum(1 for node in everything if node.item.kind == ItemKind.COMPETENCY)
    chosen = [node for node in domains if node.item.pk == domain_id]
    if chosen:
        roots = chosen
    term = search.strip().lower()
    if term:
        roots = [root for root in roots if _keep(root, term)]
    profiles = framework_profiles(framework=framework)
    ranks = _rank(levels)
    groups: list[MatrixGroup] = []
    shown = 0
    by_id = {node.item.pk: node for node in everything}
    for node in flatten(roots):
        if node.item.kind == ItemKind.DOMAIN:
            groups.append(MatrixGroup(heading=node))
            continue
        # A competency after a sub-domain goes back under its own domain's heading.
        domain = _nearest_domain(node, by_id)
        if not groups or groups[-1].heading is not domain:
            groups.append(MatrixGroup(heading=domain))
        cells = [matrix_cell(entry=entry, item=node.item, ranks=ranks) for entry in profiles]
        groups[-1].rows.append(MatrixRow(node, cells))
        shown += 1
    return Matrix(
        profiles, groups, domains, levels, shown, total, chosen[0].item.pk if chosen else None
    )


def matrix_item_cells(
    *, framework: Framework, item: FrameworkItem, levels: list[ScaleLevel]
) -> dict[int, MatrixCell]:
    """Profile id -> cell for one competency: after an edit, the profiles inheriting from the
    edited one show the change too."""
    ranks = _rank(levels)
    return {
        entry.profile.pk: matrix_cell(entry=entry, item=item, ranks=ranks)
        for entry in framework_profiles(framework=framework, item=item)
    }


def matrix_target(
    *, framework: Framework, profile_id: int, item_id: int
) -> tuple[RoleProfile, FrameworkItem]:
    """The profile and competency of one cell, both in `framework`, or 404."""
    profile = RoleProfile.objects.filter(framework=framework, pk=profile_id).first()
    item = FrameworkItem.objects.filter(
        framework=framework, pk=item_id, kind=ItemKind.COMPETENCY
    ).first()
    if profile is None or item is None:
        raise Http404
    profile.framework = framework
    item.framework = framework
    return profile, item


def derived_profile_ids(*, profile: RoleProfile, profiles: list[RoleProfile]) -> set[int]:
    """Profiles that inherit from `profile`, directly or through other profiles."""
    by_id = {p.pk: p for p in profiles}
    return {
        p.pk
        for p in profiles
        if p.pk != profile.pk and any(a.pk == profile.pk for a in profile_chain(p, by_id)[1:])
    }


def requirement_target(
    *, framework: Framework, profile_code: str, item_code: str
) -> tuple[RoleProfile, FrameworkItem]:
    """The profile and competency named by their codes in `framework`, or 404."""
    profile = RoleProfile.objects.filter(framework=framework, code=profile_code).first()
    item = FrameworkItem.objects.filter(
        framework=framework, code=item_code, kind=ItemKind.COMPETENCY
    ).first()
    if profile is None or item is None:
        raise Http404
    profile.framework = framework
    item.framework = framework
    return profile, item


# --- API reads ------------------------------------------------------------------------------


@dataclass
class ItemRow:
    """One item of the flat list: the tree node plus its parent's identifier and code."""

    node: TreeNode
    parent_identifier: str | None
    parent_code: str | None


def item_rows(*, framework: Framework) -> list[ItemRow]:
    """The whole tree in order, flat, with depth and indicators (two queries)."""
    nodes = flatten(item_tree(framework=framework))
    by_id = {node.item.pk: node.item for node in nodes}
    rows = []
    for node in nodes:
        parent = by_id.get(node.item.parent_id) if node.item.parent_id else None
        rows.append(
            ItemRow(node, parent.identifier if parent else None, parent.code if parent else None)
        )
    return rows


def scale_list() -> QuerySet[ProficiencyScale]:
    """Scales are reference data: every signed-in user may read all of them."""
    return ProficiencyScale.objects.prefetch_related("levels").order_by("code")  # levels by value

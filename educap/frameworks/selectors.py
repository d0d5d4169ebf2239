"""Reads of frameworks. Frameworks are not personal data: every signed-in user may read
published ones; drafts are for the people who author them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from educap.frameworks.models import (
    Framework,
    FrameworkItem,
    FrameworkStatus,
    ItemRelation,
    LevelIndicator,
    Requirement,
    RoleProfile,
    ScaleLevel,
)
from educap.frameworks.services import framework_edit_allowed

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User


def framework_list(*, user: User | AnonymousUser, search: str = "") -> QuerySet[Framework]:
    frameworks = Framework.objects.select_related("scale").annotate(
        n_items=Count("items", filter=Q(items__kind="competency"))
    )
    if not framework_edit_allowed(user=user if user.is_authenticated else None):  # type: ignore[arg-type]
        frameworks = frameworks.exclude(status=FrameworkStatus.DRAFT)
    if search.strip():
        term = search.strip()
        frameworks = frameworks.filter(Q(code__icontains=term) | Q(title__icontains=term))
    return frameworks.order_by("code", "-created_at")


def framework_get(*, user: User | AnonymousUser, pk: int) -> Framework:
    try:
        return framework_list(user=user).get(pk=pk)
    except Framework.DoesNotExist as exc:
        raise Http404 from exc


@dataclass
class TreeNode:
    item: FrameworkItem
    children: list[TreeNode] = field(default_factory=list)
    depth: int = 0


def item_tree(*, framework: Framework, search: str = "") -> list[TreeNode]:
    """The whole tree in two queries, with indicators; a search keeps matches and ancestors."""
    items = list(
        FrameworkItem.objects.filter(framework=framework)
        .prefetch_related(
            Prefetch(
                "indicators",
                queryset=LevelIndicator.objects.select_related("level").order_by("level__value"),
            ),
            Prefetch("relations", queryset=ItemRelation.objects.select_related("target")),
        )
        .order_by("sequence", "id")
    )
    nodes = {item.pk: TreeNode(item) for item in items}
    roots: list[TreeNode] = []
    for item in items:
        node = nodes[item.pk]
        parent = nodes.get(item.parent_id) if item.parent_id else None
        (parent.children if parent else roots).append(node)
    if search.strip():
        term = search.strip().lower()

        def keep(node: TreeNode) -> bool:
            node.children = [child for child in node.children if keep(child)]
            text = f"{node.item.code} {node.item.statement} {node.item.keywords}".lower()
            return bool(node.children) or term in text

        roots = [root for root in roots if keep(root)]

    def set_depth(node: TreeNode, depth: int) -> None:
        node.depth = depth
        for child in node.children:
            set_depth(child, depth + 1)

    for root in roots:
        set_depth(root, 0)
    return roots


def flatten(nodes: list[TreeNode]) -> list[TreeNode]:
    out: list[TreeNode] = []
    for node in nodes:
        out.append(node)
        out.extend(flatten(node.children))
    return out


def scale_levels(*, framework: Framework) -> list[ScaleLevel]:
    return list(framework.scale.levels.order_by("value"))


@dataclass(frozen=True)
class ItemChange:
    identifier: str
    code: str
    statement: str
    kind: str  # "added", "removed", "changed"
    fields: tuple[str, ...] = ()


_COMPARED = ("code", "kind", "statement", "description", "keywords", "parent_identifier")


def framework_diff(*, old: Framework, new: Framework) -> list[ItemChange]:
    """Items added, removed or changed between two versions, matched by identifier."""

    def rows(framework: Framework) -> dict[str, dict[str, object]]:
        items = FrameworkItem.objects.filter(framework=framework).select_related("parent")
        indicators: dict[int, dict[int, str]] = {}
        for item_id, value, text in LevelIndicator.objects.filter(
            item__framework=framework
        ).values_list("item_id", "level__value", "text"):
            indicators.setdefault(item_id, {})[value] = text
        return {
            item.identifier: {
                "code": item.code,
                "kind": item.kind,
                "statement": item.statement,
                "description": item.description,
                "keywords": item.keywords,
                "parent_identifier": item.parent.identifier if item.parent else "",
                "indicators": indicators.get(item.pk, {}),
            }
            for item in items
        }

    before, after = rows(old), rows(new)
    changes: list[ItemChange] = []
    for identifier, row in after.items():
        if identifier not in before:
            changes.append(ItemChange(identifier, str(row["code"]), str(row["statement"]), "added"))
            continue
        changed = tuple(
            name for name in (*_COMPARED, "indicators") if before[identifier][name] != row[name]
        )
        if changed:
            changes.append(
                ItemChange(identifier, str(row["code"]), str(row["statement"]), "changed", changed)
            )
    for identifier, row in before.items():
        if identifier not in after:
            changes.append(
                ItemChange(identifier, str(row["code"]), str(row["statement"]), "removed")
            )
    return sorted(changes, key=lambda c: (c.code, c.kind))


@dataclass(frozen=True)
class EffectiveRequirement:
    item_id: int
    level: ScaleLevel
    weight: int
    inherited_from: str  # profile code the requirement comes from


def profile_requirements(*, profile: RoleProfile) -> dict[int, EffectiveRequirement]:
    """Requirements of a profile including those it inherits; the closest profile wins."""
    chain: list[RoleProfile] = []
    current: RoleProfile | None = profile
    while current is not None and current not in chain:
        chain.append(current)
        current = current.base
    result: dict[int, EffectiveRequirement] = {}
    requirements = Requirement.objects.filter(profile__in=chain).select_related("level", "profile")
    depth = {p.pk: i for i, p in enumerate(chain)}
    for requirement in sorted(requirements, key=lambda r: -depth[r.profile_id]):
        result[requirement.item_id] = EffectiveRequirement(
            requirement.item_id, requirement.level, requirement.weight, requirement.profile.code
        )
    return result


def profile_list(*, framework: Framework) -> QuerySet[RoleProfile]:
    return RoleProfile.objects.filter(framework=framework).select_related("role", "base")


def requirement_matrix(*, framework: Framework) -> dict[tuple[int, int], Requirement]:
    """(profile id, item id) -> own requirement, for the matrix editor (one query)."""
    return {
        (r.profile_id, r.item_id): r
        for r in Requirement.objects.filter(profile__framework=framework).select_related("level")
    }

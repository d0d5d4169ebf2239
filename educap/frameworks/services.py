"""Writes to frameworks: draft editing, versions, publishing, role requirements.

Published versions are immutable: every write here refuses anything but a draft.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from educap.accounts.models import GrantKind
from educap.accounts.scope import scope_for
from educap.audit.models import AuditAction
from educap.audit.services import audit_record, snapshot
from educap.core.errors import field_error
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
from educap.frameworks.signals import requirements_changed

if TYPE_CHECKING:
    from educap.accounts.models import User


class FrameworkErrorCode(StrEnum):
    NOT_ALLOWED = "framework_edit_not_allowed"
    NOT_DRAFT = "framework_not_draft"
    VERSION_EXISTS = "framework_version_exists"
    CYCLE = "item_move_cycle"
    HAS_REQUIREMENTS = "item_has_requirements"
    WRONG_FRAMEWORK = "wrong_framework"
    EMPTY = "framework_empty"


ITEM_TEXT_FIELDS = tuple(
    f"{name}_{lang}" for name in ("statement", "description") for lang in ("en", "ar", "fr", "lo")
)


def framework_edit_allowed(*, user: User | None) -> bool:
    """System administrators and central L&D officers author frameworks."""
    if user is None:
        return True
    scope = scope_for(user)
    return scope.is_admin or GrantKind.CENTRAL_OFFICER in scope.kinds


def _require_editor(actor: User | None) -> None:
    if not framework_edit_allowed(user=actor):
        raise PermissionDenied(FrameworkErrorCode.NOT_ALLOWED)


def _require_draft(framework: Framework) -> None:
    if framework.status != FrameworkStatus.DRAFT:
        raise ValidationError(
            _("%(title)s is %(status)s: published versions cannot change. Make a new version.")
            % {"title": framework.title, "status": framework.get_status_display()},
            code=FrameworkErrorCode.NOT_DRAFT,
        )


def _audit(actor: User | None, action: str, instance: Any, **kwargs: Any) -> None:
    audit_record(actor=actor, action=action, instance=instance, **kwargs)


@transaction.atomic
def framework_new_version(*, actor: User | None, framework: Framework, version: str) -> Framework:
    """Copy a framework (usually published) into a new draft version, identifiers kept."""
    _require_editor(actor)
    if Framework.objects.filter(code=framework.code, version=version).exists():
        raise field_error(
            "version",
            _("Version %(version)s of %(code)s already exists.")
            % {"version": version, "code": framework.code},
            FrameworkErrorCode.VERSION_EXISTS,
        )
    source_pk = framework.pk
    draft = Framework.objects.get(pk=source_pk)
    draft.pk = None
    draft.version = version
    draft.status = FrameworkStatus.DRAFT
    draft.published_at = None
    draft.previous_version_id = source_pk
    draft.identifier = str(uuid.uuid4())
    draft.full_clean()
    draft.save()

    items = list(FrameworkItem.objects.filter(framework_id=source_pk).order_by("id"))
    old_to_new: dict[int, FrameworkItem] = {}
    for item in items:
        old_pk = item.pk
        item.pk = None
        item.framework = draft
        old_to_new[old_pk] = item
    FrameworkItem.objects.bulk_create(old_to_new.values())
    # Parents are copied after every item has its new key.
    parent_of = dict(
        FrameworkItem.objects.filter(framework_id=source_pk).values_list("id", "parent_id")
    )
    for old_pk, item in old_to_new.items():
        old_parent_pk = parent_of.get(old_pk)
        item.parent = old_to_new[old_parent_pk] if old_parent_pk else None
    FrameworkItem.objects.bulk_update(old_to_new.values(), ["parent"])

    indicators = list(LevelIndicator.objects.filter(item__framework_id=source_pk))
    for indicator in indicators:
        indicator.pk = None
        indicator.item = old_to_new[indicator.item_id]
    LevelIndicator.objects.bulk_create(indicators)

    relations = list(ItemRelation.objects.filter(framework_id=source_pk))
    for relation in relations:
        relation.pk = None
        relation.framework = draft
        relation.source = old_to_new[relation.source_id]
        if relation.target_id is not None:
            relation.target = old_to_new.get(relation.target_id)
    ItemRelation.objects.bulk_create(relations)

    profiles = list(RoleProfile.objects.filter(framework_id=source_pk).order_by("id"))
    profile_map: dict[int, RoleProfile] = {}
    base_of = {p.pk: p.base_id for p in profiles}
    for profile in profiles:
        old_pk = profile.pk
        profile.pk = None
        profile.framework = draft
        profile.base = None
        profile_map[old_pk] = profile
    RoleProfile.objects.bulk_create(profile_map.values())
    for old_pk, profile in profile_map.items():
        base_pk = base_of[old_pk]
        profile.base = profile_map[base_pk] if base_pk else None
    RoleProfile.objects.bulk_update(profile_map.values(), ["base"])

    requirements = list(Requirement.objects.filter(profile__framework_id=source_pk))
    for requirement in requirements:
        requirement.pk = None
        requirement.profile = profile_map[requirement.profile_id]
        requirement.item = old_to_new[requirement.item_id]
    Requirement.objects.bulk_create(requirements)

    _audit(
        actor,
        AuditAction.CREATE,
        draft,
        after={"copied_from": source_pk, "version": version, "items": len(items)},
    )
    return draft


@transaction.atomic
def framework_publish(*, actor: User | None, framework: Framework) -> Framework:
    _require_editor(actor)
    _require_draft(framework)
    if not framework.items.exists():
        raise ValidationError(
            _("A framework needs at least one competency before it is published."),
            code=FrameworkErrorCode.EMPTY,
        )
    before = snapshot(framework, ["status", "published_at"])
    framework.status = FrameworkStatus.PUBLISHED
    framework.published_at = timezone.now()
    framework.save(update_fields=["status", "published_at", "updated_at"])
    requirements_changed.send(sender=Framework, framework_id=framework.pk)
    _audit(
        actor,
        AuditAction.UPDATE,
        framework,
        before=before,
        after=snapshot(framework, ["status", "published_at"]),
    )
    return framework


@transaction.atomic
def framework_retire(*, actor: User | None, framework: Framework) -> Framework:
    _require_editor(actor)
    if framework.status != FrameworkStatus.PUBLISHED:
        raise ValidationError(
            _("Only a published framework can be retired."), code=FrameworkErrorCode.NOT_DRAFT
        )
    framework.status = FrameworkStatus.RETIRED
    framework.save(update_fields=["status", "updated_at"])
    requirements_changed.send(sender=Framework, framework_id=framework.pk)
    _audit(actor, AuditAction.UPDATE, framework, after={"status": FrameworkStatus.RETIRED})
    return framework


def _check_parent(framework: Framework, parent: FrameworkItem | None) -> None:
    if parent is not None and parent.framework_id != framework.pk:
        raise field_error(
            "parent",
            _("The parent must be in the same framework."),
            FrameworkErrorCode.WRONG_FRAMEWORK,
        )


@transaction.atomic
def item_add(
    *,
    actor: User | None,
    framework: Framework,
    parent: FrameworkItem | None,
    kind: str,
    code: str,
    statement: str,
    **texts: Any,
) -> FrameworkItem:
    _require_editor(actor)
    _require_draft(framework)
    _check_parent(framework, parent)
    last = FrameworkItem.objects.filter(framework=framework, parent=parent).aggregate(
        n=Max("sequence")
    )["n"]
    item = FrameworkItem(
        framework=framework,
        parent=parent,
        kind=kind,
        code=code,
        statement=statement,
        sequence=(last or 0) + 1,
        **{k: v for k, v in texts.items() if k in ITEM_TEXT_FIELDS or k == "keywords"},
    )
    item.full_clean()
    item.save()
    _audit(actor, AuditAction.CREATE, item, after=snapshot(item))
    return item


@transaction.atomic
def item_update(*, actor: User | None, item: FrameworkItem, **fields: Any) -> FrameworkItem:
    _require_editor(actor)
    _require_draft(item.framework)
    allowed = {"code", "kind", "statement", "description", "keywords", *ITEM_TEXT_FIELDS}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Unknown item fields: {sorted(unknown)}")
    before = snapshot(item)
    for name, value in fields.items():
        setattr(item, name, value)
    item.full_clean()
    item.save()
    _audit(actor, AuditAction.UPDATE, item, before=before, after=snapshot(item))
    return item


@transaction.atomic
def item_move(
    *, actor: User | None, item: FrameworkItem, parent: FrameworkItem | None, position: int
) -> FrameworkItem:
    """Put `item` under `parent` at `position` (0-based) among its new siblings."""
    _require_editor(actor)
    framework = item.framework
    _require_draft(framework)
    _check_parent(framework, parent)
    ancestor = parent
    while ancestor is not None:
        if ancestor.pk == item.pk:
            raise field_error(
                "parent",
                _("An item cannot be moved under itself or one of its descendants."),
                FrameworkErrorCode.CYCLE,
            )
        ancestor = ancestor.parent
    before = snapshot(item, ["parent_id", "sequence"])
    siblings = list(
        FrameworkItem.objects.filter(framework=framework, parent=parent)
        .exclude(pk=item.pk)
        .order_by("sequence", "id")
    )
    position = max(0, min(position, len(siblings)))
    siblings.insert(position, item)
    item.parent = parent
    for index, sibling in enumerate(siblings, start=1):
        sibling.sequence = index
    FrameworkItem.objects.bulk_update(siblings, ["sequence", "parent"])
    _audit(
        actor,
        AuditAction.UPDATE,
        item,
        before=before,
        after=snapshot(item, ["parent_id", "sequence"]),
    )
    return item


@transaction.atomic
def item_delete(*, actor: User | None, item: FrameworkItem) -> None:
    """Delete an item and everything under it, unless a role profile still requires one."""
    _require_editor(actor)
    _require_draft(item.framework)
    subtree = _subtree_ids(item)
    if Requirement.objects.filter(item_id__in=subtree).exists():
        raise ValidationError(
            _("Remove the role requirements on this item (or its children) first."),
            code=FrameworkErrorCode.HAS_REQUIREMENTS,
        )
    _audit(actor, AuditAction.DELETE, item, before=snapshot(item))
    FrameworkItem.objects.filter(pk__in=subtree).delete()
    FrameworkItem.objects.filter(
        framework=item.framework, parent=item.parent, sequence__gt=item.sequence
    ).update(sequence=F("sequence") - 1)


def _subtree_ids(item: FrameworkItem) -> set[int]:
    pairs = list(
        FrameworkItem.objects.filter(framework=item.framework).values_list("id", "parent_id")
    )
    children: dict[int | None, list[int]] = {}
    for pk, parent_pk in pairs:
        children.setdefault(parent_pk, []).append(pk)
    found, stack = set(), [item.pk]
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(children.get(current, []))
    return found


@transaction.atomic
def indicator_set(
    *, actor: User | None, item: FrameworkItem, level: ScaleLevel, **texts: str
) -> LevelIndicator | None:
    """Set (or clear, with empty text) what `item` looks like at `level`."""
    _require_editor(actor)
    _require_draft(item.framework)
    indicator = LevelIndicator.objects.filter(item=item, level=level).first()
    if not any(texts.values()):
        if indicator is not None:
            _audit(actor, AuditAction.DELETE, indicator, before=snapshot(indicator))
            indicator.delete()
        return None
    indicator = indicator or LevelIndicator(item=item, level=level)
    for name, value in texts.items():
        setattr(indicator, name, value)
    indicator.text = texts.get("text_en") or texts.get("text") or indicator.text
    indicator.full_clean()
    indicator.save()
    _audit(actor, AuditAction.UPDATE, indicator, after=snapshot(indicator))
    return indicator


@transaction.atomic
def requirement_set(
    *,
    actor: User | None,
    profile: RoleProfile,
    item: FrameworkItem,
    level: ScaleLevel | None,
    weight: int = 2,
) -> Requirement | None:
    """Set the required level and weight of a competency for a profile; None removes it."""
    _require_editor(actor)
    _require_draft(profile.framework)
    if item.framework_id != profile.framework_id:
        raise field_error(
            "item", _("The competency is in another framework."), FrameworkErrorCode.WRONG_FRAMEWORK
        )
    requirement = Requirement.objects.filter(profile=profile, item=item).first()
    if level is None:
        if requirement is not None:
            _audit(actor, AuditAction.DELETE, requirement, before=snapshot(requirement))
            requirement.delete()
            requirements_changed.send(sender=Framework, framework_id=profile.framework_id)
        return None
    before = snapshot(requirement) if requirement else None
    requirement = requirement or Requirement(profile=profile, item=item)
    requirement.level = level
    requirement.weight = weight
    requirement.full_clean()
    requirement.save()
    requirements_changed.send(sender=Framework, framework_id=profile.framework_id)
    _audit(
        actor,
        AuditAction.UPDATE if before else AuditAction.CREATE,
        requirement,
        before=before,
        after=snapshot(requirement),
    )
    return requirement

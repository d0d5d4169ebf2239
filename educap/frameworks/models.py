"""Competency frameworks: proficiency scales, versioned item trees and role profiles."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from educap.org.models import code_validator
from educap.people.models import Role


class ProficiencyScale(models.Model):
    """Ordered levels with behavioural descriptors (default 0 None ... 4 Expert)."""

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    identifier = models.CharField(
        _("identifier"), max_length=100, unique=True, default=uuid.uuid4, editable=False
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("proficiency scale")
        verbose_name_plural = _("proficiency scales")

    def __str__(self) -> str:
        return self.name


class ScaleLevel(models.Model):
    scale = models.ForeignKey(
        ProficiencyScale, on_delete=models.CASCADE, related_name="levels", verbose_name=_("scale")
    )
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    value = models.PositiveSmallIntegerField(_("numeric value"))
    descriptor = models.TextField(_("behavioural descriptor"), blank=True)

    class Meta:
        ordering = ["scale", "value"]
        verbose_name = _("scale level")
        verbose_name_plural = _("scale levels")
        constraints = [
            models.UniqueConstraint(fields=["scale", "value"], name="scale_level_value_unique"),
            models.UniqueConstraint(fields=["scale", "code"], name="scale_level_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.value} {self.name}"


class FrameworkStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class Framework(models.Model):
    """One version of a competency framework. Published versions never change."""

    code = models.CharField(_("code"), max_length=100, validators=[code_validator])
    version = models.CharField(_("version"), max_length=40, default="1.0")
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=FrameworkStatus.choices, default=FrameworkStatus.DRAFT
    )
    language = models.CharField(_("language"), max_length=8, default="en")
    licence = models.CharField(_("licence"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)
    publisher = models.CharField(_("publisher"), max_length=300, blank=True)
    # CASE CFDocument identifier (a UUID), kept from the source system on import.
    identifier = models.CharField(_("identifier"), max_length=100, unique=True, default=uuid.uuid4)
    scale = models.ForeignKey(
        ProficiencyScale,
        on_delete=models.PROTECT,
        related_name="frameworks",
        verbose_name=_("scale"),
    )
    previous_version = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="next_versions"
    )
    validity_months = models.PositiveSmallIntegerField(
        _("evidence valid for (months)"),
        default=36,
        help_text=_("Ratings older than this no longer count towards a current level."),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code", "-created_at"]
        verbose_name = _("competency framework")
        verbose_name_plural = _("competency frameworks")
        constraints = [
            models.UniqueConstraint(
                fields=["code", "version"], name="framework_code_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"

    @property
    def is_editable(self) -> bool:
        return self.status == FrameworkStatus.DRAFT


class ItemKind(models.TextChoices):
    DOMAIN = "domain", _("Domain")
    COMPETENCY = "competency", _("Competency")


class FrameworkItem(models.Model):
    """A domain or competency in a framework's tree (any depth)."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="items", verbose_name=_("framework")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
        verbose_name=_("parent"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ItemKind.choices)
    code = models.CharField(_("code"), max_length=100, validators=[code_validator])
    # CASE CFItem identifier; stays the same across versions of the same item.
    identifier = models.CharField(_("identifier"), max_length=100, default=uuid.uuid4)
    sequence = models.PositiveIntegerField(_("order"), default=0)
    statement = models.CharField(_("statement"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)

    class Meta:
        ordering = ["framework", "sequence", "id"]
        verbose_name = _("framework item")
        verbose_name_plural = _("framework items")
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="item_code_unique"),
            models.UniqueConstraint(
                fields=["framework", "identifier"], name="item_identifier_unique"
            ),
        ]
        indexes = [models.Index(fields=["framework", "parent", "sequence"], name="item_tree_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.statement}"

    def clean(self) -> None:
        parent = self.parent if self.parent_id is not None else None
        if parent is not None and parent.framework_id != self.framework_id:
            raise ValidationError({"parent": _("The parent must be in the same framework.")})


class LevelIndicator(models.Model):
    """What a competency looks like at one level of the scale (behavioural indicator)."""

    item = models.ForeignKey(
        FrameworkItem, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("item")
    )
    level = models.ForeignKey(
        ScaleLevel, on_delete=models.PROTECT, related_name="+", verbose_name=_("level")
    )
    text = models.TextField(_("indicator"))

    class Meta:
        ordering = ["item", "level__value"]
        verbose_name = _("level indicator")
        verbose_name_plural = _("level indicators")
        constraints = [
            models.UniqueConstraint(fields=["item", "level"], name="indicator_item_level_unique")
        ]

    def __str__(self) -> str:
        return f"{self.item.code} @ {self.level.value}"


class RelationKind(models.TextChoices):
    IS_PEER_OF = "isPeerOf", _("Peer of")
    IS_RELATED_TO = "isRelatedTo", _("Related to")
    REPLACED_BY = "replacedBy", _("Replaced by")
    EXACT_MATCH_OF = "exactMatchOf", _("Exact match of")
    PRECEDES = "precedes", _("Precedes")
    IS_PART_OF = "isPartOf", _("Part of")
    EXEMPLAR = "exemplar", _("Exemplar")
    HAS_SKILL_LEVEL = "hasSkillLevel", _("Has skill level")
    OTHER = "other", _("Other")


class ItemRelation(models.Model):
    """A relation between items, kept even where EduCap does not act on it.

    The target is an item of this installation or, failing that, an external identifier or URI.
    """

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="relations")
    source = models.ForeignKey(FrameworkItem, on_delete=models.CASCADE, related_name="relations")
    kind = models.CharField(_("relation"), max_length=20, choices=RelationKind.choices)
    kind_label = models.CharField(max_length=100, blank=True, help_text="Original type if OTHER.")
    target = models.ForeignKey(
        FrameworkItem, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    target_identifier = models.CharField(max_length=300, blank=True)
    target_uri = models.CharField(max_length=500, blank=True)
    identifier = models.CharField(max_length=100, default=uuid.uuid4)
    sequence = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["framework", "source", "kind"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(target__isnull=True, target_identifier=""),
                name="relation_has_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source.code} {self.kind} {self.target or self.target_identifier}"


class Importance(models.IntegerChoices):
    LOW = 1, _("Useful")
    MEDIUM = 2, _("Important")
    HIGH = 3, _("Very important")
    CRITICAL = 4, _("Critical")


class RoleProfile(models.Model):
    """What a role needs from one framework version; may inherit a base profile."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="profiles", verbose_name=_("framework")
    )
    code = models.CharField(_("code"), max_length=60, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    role = models.ForeignKey(
        Role,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="profiles",
        verbose_name=_("role"),
        help_text=_("Empty for a base profile that other profiles inherit (e.g. all staff)."),
    )
    base = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="derived",
        verbose_name=_("inherits from"),
    )

    class Meta:
        ordering = ["framework", "code"]
        verbose_name = _("role profile")
        verbose_name_plural = _("role profiles")
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="profile_code_unique"),
            models.UniqueConstraint(
                fields=["framework", "role"],
                condition=Q(role__isnull=False),
                name="profile_role_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        seen = {self.pk}
        base = self.base
        while base is not None:
            if base.pk in seen:
                raise ValidationError({"base": _("A profile cannot inherit from itself.")})
            if base.framework_id != self.framework_id:
                raise ValidationError(
                    {"base": _("The base profile must be in the same framework.")}
                )
            seen.add(base.pk)
            base = base.base


class Requirement(models.Model):
    """Required level and weight of one competency in one profile."""

    profile = models.ForeignKey(
        RoleProfile,
        on_delete=models.CASCADE,
        related_name="requirements",
        verbose_name=_("profile"),
    )
    item = models.ForeignKey(
        FrameworkItem,
        on_delete=models.CASCADE,
        related_name="requirements",
        verbose_name=_("competency"),
    )
    level = models.ForeignKey(
        ScaleLevel, on_delete=models.PROTECT, related_name="+", verbose_name=_("required level")
    )
    weight = models.PositiveSmallIntegerField(
        _("importance"),
        choices=Importance.choices,
        default=Importance.MEDIUM,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )

    class Meta:
        ordering = ["profile", "item__sequence"]
        verbose_name = _("requirement")
        verbose_name_plural = _("requirements")
        constraints = [
            models.UniqueConstraint(fields=["profile", "item"], name="requirement_unique")
        ]

    def __str__(self) -> str:
        return f"{self.profile.code}: {self.item.code} ≥ {self.level.value}"

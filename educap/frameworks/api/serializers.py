from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from educap.frameworks.models import (
    Framework,
    Importance,
    LevelIndicator,
    ProficiencyScale,
    ScaleLevel,
)

LANGUAGES = ("en", "ar", "fr", "lo")


def _translated(*names: str) -> list[str]:
    """`name` (in the request's language) then `name_en`, `name_ar`, `name_fr`, `name_lo`."""
    return [f for name in names for f in (name, *(f"{name}_{lang}" for lang in LANGUAGES))]


class ScaleLevelSerializer(serializers.ModelSerializer[ScaleLevel]):
    class Meta:
        model = ScaleLevel
        fields = ["code", "value", *_translated("name", "descriptor")]


class ScaleSerializer(serializers.ModelSerializer[ProficiencyScale]):
    levels = ScaleLevelSerializer(many=True, read_only=True)

    class Meta:
        model = ProficiencyScale
        fields = ["code", "identifier", *_translated("name", "description"), "levels"]


class FrameworkSerializer(serializers.ModelSerializer[Framework]):
    scale = serializers.SlugRelatedField(slug_field="code", read_only=True)
    competencies = serializers.IntegerField(source="n_items", read_only=True)

    class Meta:
        model = Framework
        fields = [
            "id",
            "code",
            "version",
            "identifier",
            *_translated("title"),
            "status",
            "language",
            "licence",
            "source",
            "publisher",
            "scale",
            "previous_version",
            "validity_months",
            "published_at",
            "created_at",
            "updated_at",
            "competencies",
        ]


class FrameworkCountsSerializer(serializers.Serializer[dict[str, int]]):
    domains = serializers.IntegerField()
    competencies = serializers.IntegerField()
    profiles = serializers.IntegerField()
    requirements = serializers.IntegerField()


class FrameworkDetailSerializer(FrameworkSerializer):
    scale = ScaleSerializer(read_only=True)  # type: ignore[assignment]
    counts = FrameworkCountsSerializer(read_only=True)

    class Meta(FrameworkSerializer.Meta):
        fields = [
            *FrameworkSerializer.Meta.fields[:5],
            *_translated("description"),
            *FrameworkSerializer.Meta.fields[5:],
            "counts",
        ]


class LevelIndicatorSerializer(serializers.ModelSerializer[LevelIndicator]):
    level = serializers.CharField(source="level.code", read_only=True)
    value = serializers.IntegerField(source="level.value", read_only=True)

    class Meta:
        model = LevelIndicator
        fields = ["level", "value", *_translated("text")]


class FrameworkItemSerializer(serializers.Serializer[Any]):
    """One row of `matrix.item_rows`: a tree node flattened, with its parent's identifier."""

    id = serializers.IntegerField(source="node.item.pk")
    identifier = serializers.CharField(source="node.item.identifier")
    code = serializers.CharField(source="node.item.code")
    kind = serializers.CharField(source="node.item.kind")
    parent_identifier = serializers.CharField(allow_null=True)
    parent_code = serializers.CharField(allow_null=True)
    sequence = serializers.IntegerField(source="node.item.sequence")
    depth = serializers.IntegerField(source="node.depth")
    statement = serializers.CharField(source="node.item.statement")
    statement_en = serializers.CharField(source="node.item.statement_en", allow_null=True)
    statement_ar = serializers.CharField(source="node.item.statement_ar", allow_null=True)
    statement_fr = serializers.CharField(source="node.item.statement_fr", allow_null=True)
    statement_lo = serializers.CharField(source="node.item.statement_lo", allow_null=True)
    description = serializers.CharField(source="node.item.description")
    description_en = serializers.CharField(source="node.item.description_en", allow_null=True)
    description_ar = serializers.CharField(source="node.item.description_ar", allow_null=True)
    description_fr = serializers.CharField(source="node.item.description_fr", allow_null=True)
    description_lo = serializers.CharField(source="node.item.description_lo", allow_null=True)
    keywords = serializers.CharField(source="node.item.keywords")
    indicators = LevelIndicatorSerializer(source="node.item.indicators.all", many=True)


class ProfileRequirementSerializer(serializers.Serializer[Any]):
    """(item, EffectiveRequirement) pairs from `matrix.framework_profiles`."""

    item = serializers.CharField(help_text="Competency code")
    item_identifier = serializers.CharField()
    level = serializers.CharField(help_text="Scale level code")
    level_value = serializers.IntegerField()
    weight = serializers.IntegerField(help_text="1-3; 4 is critical")
    inherited_from = serializers.CharField(
        allow_null=True,
        help_text="Code of the base profile this comes from; null for the profile's own.",
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        item, requirement = instance
        return {
            "item": item.code,
            "item_identifier": item.identifier,
            "level": requirement.level.code,
            "level_value": requirement.level.value,
            "weight": requirement.weight,
            "inherited_from": (
                None
                if requirement.inherited_from == self.context["profile_code"]
                else requirement.inherited_from
            ),
        }


class RoleProfileSerializer(serializers.Serializer[Any]):
    """A role profile with its own requirements and the effective ones (inheritance resolved)."""

    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField(allow_null=True)
    name_ar = serializers.CharField(allow_null=True)
    name_fr = serializers.CharField(allow_null=True)
    name_lo = serializers.CharField(allow_null=True)
    role = serializers.CharField(allow_null=True, help_text="Role code; null for a base profile")
    base = serializers.CharField(allow_null=True, help_text="Code of the profile inherited from")
    requirements = ProfileRequirementSerializer(many=True)
    effective_requirements = ProfileRequirementSerializer(many=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        profile = instance.profile
        context = {**self.context, "profile_code": profile.code}
        rows = ProfileRequirementSerializer(many=True, context=context)
        return {
            "code": profile.code,
            **{f: getattr(profile, f) for f in _translated("name")},
            "role": profile.role.code if profile.role else None,
            "base": instance.base.code if instance.base else None,
            "requirements": rows.to_representation(instance.own_rows()),
            "effective_requirements": rows.to_representation(instance.effective_rows()),
        }


class RequirementWriteSerializer(serializers.Serializer[Any]):
    level = serializers.CharField(
        allow_null=True,
        allow_blank=True,
        help_text="Level code in the framework's scale; null or empty removes the requirement.",
    )
    weight = serializers.ChoiceField(
        choices=Importance.choices, default=Importance.MEDIUM, help_text="1-3; 4 is critical"
    )

    def validate_level(self, value: str | None) -> ScaleLevel | None:
        if not value:
            return None
        levels: dict[str, ScaleLevel] = self.context["levels"]
        if value not in levels:
            raise serializers.ValidationError(
                _("%(level)s is not a level of this framework's scale.") % {"level": value},
                code="invalid_choice",
            )
        return levels[value]


class RequirementSerializer(serializers.Serializer[Any]):
    profile = serializers.CharField(source="profile.code")
    item = serializers.CharField(source="item.code")
    level = serializers.CharField(source="level.code")
    level_value = serializers.IntegerField(source="level.value")
    weight = serializers.IntegerField()

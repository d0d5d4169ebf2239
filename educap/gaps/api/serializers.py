"""Gap analysis over the API: read-only shapes of the selectors' results."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from educap.gaps.selectors import GapStats

# Measures that a suppressed cell (partner viewer, fewer people than the threshold) hides.
_HIDDEN = (
    "in_scope",
    "assessed",
    "meeting",
    "below",
    "unknown",
    "mean_gap",
    "share_meeting",
    "weighted_gap_index",
    "priority",
    "mean_self_minus_supervisor",
)


class GapStatsSerializer(serializers.Serializer[GapStats]):
    """Counts and measures of one cell; all null with `suppressed: true` for small cells."""

    in_scope = serializers.IntegerField(allow_null=True, help_text="Staff whose role requires it")
    assessed = serializers.IntegerField(allow_null=True, help_text="With a current level")
    meeting = serializers.IntegerField(allow_null=True)
    below = serializers.IntegerField(allow_null=True)
    unknown = serializers.IntegerField(allow_null=True, help_text="No current level")
    mean_gap = serializers.FloatField(allow_null=True, help_text="Among the assessed")
    share_meeting = serializers.FloatField(allow_null=True, help_text="meeting / assessed")
    weighted_gap_index = serializers.FloatField(
        allow_null=True, help_text="Σ weight·gap / Σ weight·required (0 = everyone meets)"
    )
    priority = serializers.IntegerField(
        allow_null=True, help_text="Training-need priority Σ weight·gap"
    )
    mean_self_minus_supervisor = serializers.FloatField(allow_null=True)
    suppressed = serializers.BooleanField(help_text="Fewer people than the small-cell threshold")

    def to_representation(self, instance: GapStats) -> dict[str, Any]:
        data: dict[str, Any] = dict(super().to_representation(instance))
        if instance.suppressed:
            data.update(dict.fromkeys(_HIDDEN))
        return data


class GapCellSerializer(GapStatsSerializer):
    competency = serializers.CharField(help_text="Competency code")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        code, stats = instance
        return {"competency": code, **GapStatsSerializer().to_representation(stats)}


class GapUnitSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField(source="level.code")


class GapFrameworkSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField()
    version = serializers.CharField()


class GapCompetencySerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField()
    statement = serializers.CharField()
    domain = serializers.CharField(source="parent.code", allow_null=True, default=None)


class UnitGapChildSerializer(serializers.Serializer[Any]):
    unit = GapUnitSerializer()
    total = GapStatsSerializer()
    cells = GapCellSerializer(many=True)


class UnitGapsSerializer(serializers.Serializer[Any]):
    unit = GapUnitSerializer()
    framework = GapFrameworkSerializer()
    suppressed = serializers.BooleanField(
        help_text="Cells of fewer people than the threshold are hidden (partner viewers)"
    )
    competencies = GapCompetencySerializer(many=True)
    total = GapStatsSerializer(help_text="The whole subtree, all competencies")
    cells = GapCellSerializer(many=True, help_text="The unit's own subtree per competency")
    children = UnitGapChildSerializer(many=True)


class RoleSexCountSerializer(serializers.Serializer[Any]):
    role = serializers.CharField(help_text="Role code")
    sex = serializers.CharField()
    below = serializers.IntegerField()


class TrainingNeedSerializer(serializers.Serializer[Any]):
    competency = GapCompetencySerializer(source="item")
    stats = GapStatsSerializer()
    below_by_role_sex = RoleSexCountSerializer(many=True)


class TrainingNeedsSerializer(serializers.Serializer[Any]):
    unit = GapUnitSerializer()
    framework = GapFrameworkSerializer()
    needs = TrainingNeedSerializer(many=True)


class RecruitmentNeedSerializer(serializers.Serializer[Any]):
    unit = serializers.CharField(source="unit.code")
    role = serializers.CharField(source="role.code")
    competency = serializers.CharField(
        source="item.code",
        allow_null=True,
        default=None,
        help_text="The critical competency nobody meets; null for a vacancy",
    )
    in_post = serializers.IntegerField()
    vacancies = serializers.IntegerField()
    vacancies_below = serializers.BooleanField(
        source="below",
        help_text=(
            "True when `vacancies` counts the unit and every unit below it (a child unit "
            "of the unit asked for that has units below it)"
        ),
    )


class RecruitmentNeedsSerializer(serializers.Serializer[Any]):
    unit = GapUnitSerializer()
    framework = GapFrameworkSerializer()
    needs = RecruitmentNeedSerializer(many=True)


class PersonGapSerializer(serializers.Serializer[Any]):
    competency = GapCompetencySerializer(source="item")
    required = serializers.IntegerField()
    weight = serializers.IntegerField()
    current = serializers.IntegerField(allow_null=True, help_text="null: unknown")
    gap = serializers.IntegerField(allow_null=True, help_text="max(0, required − current)")
    status = serializers.CharField(help_text="met, below or unknown")


class GapPersonSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    staff_number = serializers.CharField()
    unit = serializers.CharField(source="unit.code", allow_null=True, default=None)
    role = serializers.CharField(source="role.code", allow_null=True, default=None)


class PersonGapsSerializer(serializers.Serializer[Any]):
    person = GapPersonSerializer()
    framework = GapFrameworkSerializer(allow_null=True)
    met = serializers.IntegerField()
    below = serializers.IntegerField()
    unknown = serializers.IntegerField()
    weighted_gap_index = serializers.FloatField(allow_null=True)
    gaps = PersonGapSerializer(many=True)

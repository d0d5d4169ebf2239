from __future__ import annotations

from typing import Any

from rest_framework import serializers

from educap.assessments.models import (
    Campaign,
    CurrentLevel,
    PeerChooser,
    RaterAssignment,
    Rating,
    Source,
)
from educap.frameworks.api.serializers import LANGUAGES

TRANSLATED = ("title", "description")


def _translated(name: str) -> list[str]:
    return [name, *(f"{name}_{lang}" for lang in LANGUAGES)]


class CampaignFrameworkSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField()
    version = serializers.CharField()
    title = serializers.CharField()


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    framework = CampaignFrameworkSerializer(read_only=True)
    survey = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # Plain strings: enums named "status"/"kind" in several apps would collide in the schema.
    status = serializers.CharField(read_only=True, help_text="draft, open or closed")
    kinds = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Assignment kinds this campaign collects: self, supervisor, peer, test, survey.",
    )

    class Meta:
        model = Campaign
        fields = [
            "code",
            *_translated("title"),
            "framework",
            "status",
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
            "kinds",
            "launched_at",
            "closed_at",
        ]


class CampaignDetailSerializer(CampaignSerializer):
    target_units = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    target_roles = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    target_people = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(CampaignSerializer.Meta):
        fields = [
            *CampaignSerializer.Meta.fields[:6],
            *_translated("description"),
            *CampaignSerializer.Meta.fields[6:],
            "target_units",
            "target_roles",
            "target_people",
            "created_at",
            "updated_at",
        ]


class CampaignWriteSerializer(serializers.Serializer[dict[str, Any]]):
    """Input for create (all required fields) and update (any subset, `partial`)."""

    code = serializers.CharField(max_length=60)
    title_en = serializers.CharField(max_length=300)
    title_ar = serializers.CharField(max_length=300, required=False, allow_blank=True)
    title_fr = serializers.CharField(max_length=300, required=False, allow_blank=True)
    title_lo = serializers.CharField(max_length=300, required=False, allow_blank=True)
    description_en = serializers.CharField(required=False, allow_blank=True)
    description_ar = serializers.CharField(required=False, allow_blank=True)
    description_fr = serializers.CharField(required=False, allow_blank=True)
    description_lo = serializers.CharField(required=False, allow_blank=True)
    framework = serializers.IntegerField(help_text="Id of a published framework version.")
    opens_on = serializers.DateField()
    closes_on = serializers.DateField()
    collect_self = serializers.BooleanField(required=False)
    collect_supervisor = serializers.BooleanField(required=False)
    collect_peer = serializers.BooleanField(required=False)
    peer_count = serializers.IntegerField(required=False, min_value=1, max_value=10)
    peer_chooser = serializers.ChoiceField(
        choices=PeerChooser.choices, required=False, help_text="Who names the peers."
    )
    collect_test = serializers.BooleanField(required=False)
    test_items_per_competency = serializers.IntegerField(required=False, min_value=1, max_value=20)
    test_time_limit_minutes = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    collect_survey = serializers.BooleanField(required=False)
    survey = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Survey code."
    )
    supervisor_sees_self = serializers.BooleanField(required=False)
    target_units = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Org unit codes (each with its subtree); empty for every unit.",
    )
    target_roles = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Role codes; empty for all."
    )
    target_people = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Person ids named."
    )


class LaunchResultSerializer(serializers.Serializer[Any]):
    people = serializers.IntegerField()
    assignments = serializers.IntegerField()
    without_profile = serializers.IntegerField()
    without_supervisor = serializers.IntegerField()
    campaign = CampaignSerializer()


class RemindSerializer(serializers.Serializer[dict[str, Any]]):
    unit = serializers.CharField(
        required=False, allow_blank=True, help_text="Unit code: remind that subtree only."
    )


class RemindResultSerializer(serializers.Serializer[Any]):
    sent = serializers.IntegerField(help_text="E-mails sent (one per rater).")


class ProgressUnitSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField(source="level.code")


class KindProgressSerializer(serializers.Serializer[Any]):
    invited = serializers.IntegerField()
    submitted = serializers.IntegerField()


class ProgressRowSerializer(serializers.Serializer[Any]):
    unit = ProgressUnitSerializer(allow_null=True)
    invited = serializers.IntegerField()
    started = serializers.IntegerField()
    submitted = serializers.IntegerField()
    percent = serializers.FloatField()
    by_kind = serializers.SerializerMethodField()

    def get_by_kind(self, row: Any) -> dict[str, dict[str, int]]:
        return {
            kind: {"invited": counts[0], "submitted": counts[1]}
            for kind, counts in sorted(row.by_kind.items())
        }


class ProgressSerializer(serializers.Serializer[Any]):
    total = ProgressRowSerializer()
    children = ProgressRowSerializer(many=True, help_text="Child units, furthest behind first.")


# --- assignments -----------------------------------------------------------------------


class PersonRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    staff_number = serializers.CharField()
    name = serializers.CharField(source="full_name")


class AssignmentCampaignSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    closes_on = serializers.DateField()


class RaterAssignmentSerializer(serializers.ModelSerializer[RaterAssignment]):
    campaign = AssignmentCampaignSerializer(read_only=True)
    ratee = PersonRefSerializer(read_only=True)
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    role = serializers.SlugRelatedField(slug_field="code", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    status = serializers.CharField(
        read_only=True, help_text="invited, started, submitted or withdrawn"
    )

    class Meta:
        model = RaterAssignment
        fields = [
            "id",
            "campaign",
            "kind",
            "ratee",
            "unit",
            "role",
            "status",
            "is_open",
            "started_at",
            "submitted_at",
        ]


class CompetencySerializer(serializers.Serializer[Any]):
    """One `selectors.CompetencyToRate`."""

    item = serializers.IntegerField(source="item.pk", help_text="Competency id.")
    code = serializers.CharField(source="item.code")
    statement = serializers.CharField(source="item.statement")
    domain = serializers.CharField(source="domain.code", allow_null=True, default=None)
    required_level = serializers.IntegerField(source="required.value")
    weight = serializers.IntegerField()
    indicators = serializers.DictField(
        child=serializers.CharField(), help_text="Behavioural indicator per level value."
    )


class DraftSerializer(serializers.Serializer[Any]):
    item = serializers.IntegerField(source="item_id")
    level = serializers.IntegerField(source="level.value", allow_null=True, default=None)
    comment = serializers.CharField()
    evidence = serializers.CharField()


class SelfRatingSerializer(serializers.Serializer[Any]):
    item = serializers.IntegerField(source="item_id")
    level = serializers.IntegerField(source="value")
    comment = serializers.CharField()


class RaterAssignmentDetailSerializer(RaterAssignmentSerializer):
    competencies = CompetencySerializer(many=True, read_only=True)
    drafts = DraftSerializer(source="saved_drafts", many=True, read_only=True)
    self_ratings = SelfRatingSerializer(
        many=True,
        read_only=True,
        help_text="The ratee's own ratings, for supervisors when the campaign shows them.",
    )

    class Meta(RaterAssignmentSerializer.Meta):
        fields = [*RaterAssignmentSerializer.Meta.fields, "competencies", "drafts", "self_ratings"]


class AnswerSerializer(serializers.Serializer[dict[str, Any]]):
    item = serializers.IntegerField(help_text="Competency id.")
    level = serializers.IntegerField(
        allow_null=True, help_text="Level value on the framework's scale; null: cannot judge."
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = serializers.CharField(required=False, allow_blank=True, default="")


class AnswersSerializer(serializers.Serializer[dict[str, Any]]):
    answers = AnswerSerializer(many=True)


class SubmitSerializer(serializers.Serializer[dict[str, Any]]):
    answers = AnswerSerializer(
        many=True, required=False, help_text="Saved with the drafts before submitting."
    )


class SubmitResultSerializer(serializers.Serializer[Any]):
    assignment = RaterAssignmentSerializer()
    ratings = serializers.IntegerField(help_text="Ratings recorded (cannot-judge answers skipped).")


# --- evidence --------------------------------------------------------------------------


class RatingSerializer(serializers.ModelSerializer[Rating]):
    person = serializers.IntegerField(source="person_id", read_only=True)
    item = serializers.IntegerField(source="item_id", read_only=True)
    item_code = serializers.CharField(source="item.code", read_only=True)
    campaign = serializers.CharField(
        source="campaign.code", read_only=True, allow_null=True, default=None
    )
    source = serializers.ChoiceField(choices=Source.choices, read_only=True)
    rater = serializers.SerializerMethodField(
        help_text="Null when unknown, or for peer ratings read by the person rated."
    )

    class Meta:
        model = Rating
        fields = [
            "id",
            "person",
            "item",
            "item_code",
            "source",
            "value",
            "rater",
            "campaign",
            "rated_at",
            "comment",
            "evidence",
        ]

    def get_rater(self, rating: Rating) -> int | None:
        return getattr(rating, "rater_shown", None)


class CurrentLevelSerializer(serializers.ModelSerializer[CurrentLevel]):
    item = serializers.IntegerField(source="item_id", read_only=True)
    item_code = serializers.CharField(source="item.code", read_only=True)
    statement = serializers.CharField(source="item.statement", read_only=True)

    class Meta:
        model = CurrentLevel
        fields = ["item", "item_code", "statement", "value", "source", "rated_at", "valid_until"]

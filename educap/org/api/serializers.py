from rest_framework import serializers

from educap.org.models import OrgLevel, OrgUnit


class OrgLevelSerializer(serializers.ModelSerializer[OrgLevel]):
    class Meta:
        model = OrgLevel
        fields = ["code", "name", "name_en", "name_ar", "name_fr", "name_lo", "depth"]


class OrgUnitSerializer(serializers.ModelSerializer[OrgUnit]):
    level = serializers.SlugRelatedField(slug_field="code", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = OrgUnit
        fields = [
            "code",
            "name",
            "name_en",
            "name_ar",
            "name_fr",
            "name_lo",
            "level",
            "parent",
            "depth",
            "opened_on",
            "closed_on",
            "external_id",
            "latitude",
            "longitude",
        ]

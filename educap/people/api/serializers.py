from rest_framework import serializers

from educap.people.models import Assignment, Person, Role, Vacancy


class RoleSerializer(serializers.ModelSerializer[Role]):
    class Meta:
        model = Role
        fields = ["code", "name", "name_en", "name_ar", "name_fr", "name_lo", "is_supervisory"]


class PersonSerializer(serializers.ModelSerializer[Person]):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    role = serializers.SlugRelatedField(slug_field="code", read_only=True)
    supervisor = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "staff_number",
            "given_name",
            "family_name",
            "name_local",
            "sex",
            "birth_year",
            "hire_date",
            "email",
            "phone",
            "is_active",
            "unit",
            "role",
            "supervisor",
        ]


class AssignmentSerializer(serializers.ModelSerializer[Assignment]):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    role = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "person",
            "role",
            "unit",
            "supervisor",
            "start_date",
            "end_date",
            "is_primary",
        ]


class VacancySerializer(serializers.ModelSerializer[Vacancy]):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    role = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Vacancy
        fields = ["id", "unit", "role", "count", "opened_on", "filled_on", "note"]

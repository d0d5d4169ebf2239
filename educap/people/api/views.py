from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets

from educap.org.models import OrgUnit
from educap.people import selectors
from educap.people.api.serializers import (
    AssignmentSerializer,
    PersonSerializer,
    RoleSerializer,
    VacancySerializer,
)
from educap.people.models import Assignment, Person, Role, Vacancy

_UNIT = OpenApiParameter("unit", OpenApiTypes.STR, description="Unit code: that subtree only")


class RoleViewSet(viewsets.ReadOnlyModelViewSet[Role]):
    serializer_class = RoleSerializer
    lookup_field = "code"
    pagination_class = None

    def get_queryset(self) -> QuerySet[Role]:
        return selectors.role_list()


def _unit_param(params: dict[str, str]) -> OrgUnit | None:
    return get_object_or_404(OrgUnit, code=params["unit"]) if params.get("unit") else None


@extend_schema(
    parameters=[
        _UNIT,
        OpenApiParameter("role", OpenApiTypes.STR, description="Role code"),
        OpenApiParameter("sex", OpenApiTypes.STR, enum=["F", "M"]),
        OpenApiParameter("active", OpenApiTypes.BOOL),
        OpenApiParameter("q", OpenApiTypes.STR, description="Name or staff number"),
    ]
)
class PersonViewSet(viewsets.ReadOnlyModelViewSet[Person]):
    """Staff records the caller may see (their grants decide)."""

    serializer_class = PersonSerializer

    def get_queryset(self) -> QuerySet[Person]:
        params = self.request.query_params
        role = get_object_or_404(Role, code=params["role"]) if params.get("role") else None
        active = params.get("active")
        return selectors.person_list(
            user=self.request.user,
            unit=_unit_param(params),
            role=role,
            sex=params.get("sex") or None,
            active=None if active in (None, "") else active.lower() in ("1", "true", "yes"),
            search=params.get("q", ""),
        )


@extend_schema(parameters=[OpenApiParameter("person", OpenApiTypes.INT)])
class AssignmentViewSet(viewsets.ReadOnlyModelViewSet[Assignment]):
    serializer_class = AssignmentSerializer

    def get_queryset(self) -> QuerySet[Assignment]:
        assignments = selectors.assignment_list(user=self.request.user)
        person = self.request.query_params.get("person")
        if person and person.isdigit():
            assignments = assignments.filter(person_id=int(person))
        return assignments


@extend_schema(parameters=[_UNIT])
class VacancyViewSet(viewsets.ReadOnlyModelViewSet[Vacancy]):
    serializer_class = VacancySerializer

    def get_queryset(self) -> QuerySet[Vacancy]:
        return selectors.vacancy_list(
            user=self.request.user, unit=_unit_param(self.request.query_params)
        )

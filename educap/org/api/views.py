from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets

from educap.org import selectors
from educap.org.api.serializers import OrgLevelSerializer, OrgUnitSerializer
from educap.org.models import OrgLevel, OrgUnit


class OrgLevelViewSet(viewsets.ReadOnlyModelViewSet[OrgLevel]):
    serializer_class = OrgLevelSerializer
    lookup_field = "code"
    pagination_class = None

    def get_queryset(self) -> QuerySet[OrgLevel]:
        return selectors.level_list()


@extend_schema(
    parameters=[
        OpenApiParameter("level", OpenApiTypes.STR, description="Level code"),
        OpenApiParameter(
            "parent", OpenApiTypes.STR, description="Direct children of this unit code"
        ),
        OpenApiParameter("within", OpenApiTypes.STR, description="Whole subtree of this unit code"),
        OpenApiParameter("q", OpenApiTypes.STR, description="Name contains, or exact code"),
    ]
)
class OrgUnitViewSet(viewsets.ReadOnlyModelViewSet[OrgUnit]):
    """Organisational units. Not personal data: every authenticated caller may read them."""

    serializer_class = OrgUnitSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[OrgUnit]:
        params = self.request.query_params
        level = get_object_or_404(OrgLevel, code=params["level"]) if "level" in params else None
        within = get_object_or_404(OrgUnit, code=params["within"]) if "within" in params else None
        units = selectors.unit_list(level=level, within=within, search=params.get("q", ""))
        if "parent" in params:
            units = units.filter(parent__code=params["parent"])
        return units

"""Frameworks over the API: read for every signed-in user (drafts for their authors only),
role requirements written through `services.requirement_set`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView

from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.frameworks import matrix, selectors, services
from educap.frameworks.api.serializers import (
    FrameworkDetailSerializer,
    FrameworkItemSerializer,
    FrameworkSerializer,
    RequirementSerializer,
    RequirementWriteSerializer,
    RoleProfileSerializer,
    ScaleSerializer,
)
from educap.frameworks.models import Framework, ProficiencyScale


class FrameworkEditNotAllowed(exceptions.APIException):
    """403 with the frameworks code (the shared handler would say `permission_denied`)."""

    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _("Only system administrators and central officers edit frameworks.")
    default_code = services.FrameworkErrorCode.NOT_ALLOWED


def _refuse(request: Request) -> FrameworkEditNotAllowed:
    audit_record(
        actor=request.user if request.user.is_authenticated else None,  # type: ignore[arg-type]
        action=AuditAction.ACCESS_DENIED,
        object_repr=request.path[:200],
    )
    return FrameworkEditNotAllowed()


_ERROR = OpenApiResponse(
    response=inline_serializer(
        "FrameworkApiError",
        fields={
            "code": serializers.CharField(),
            "detail": serializers.CharField(),
            "field": serializers.CharField(allow_null=True),
        },
    ),
    description="An error with a stable code, e.g. framework_not_draft.",
)


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Code or title contains")]
    )
)
class FrameworkViewSet(viewsets.ReadOnlyModelViewSet[Framework]):
    """Competency frameworks, one row per version. Drafts only for framework editors."""

    serializer_class = FrameworkSerializer
    filterset_fields = ["status", "code"]

    def get_queryset(self) -> QuerySet[Framework]:
        return selectors.framework_list(
            user=self.request.user, search=self.request.query_params.get("q", "")
        )

    def get_serializer_class(self):  # type: ignore[no-untyped-def]
        return FrameworkDetailSerializer if self.action == "retrieve" else FrameworkSerializer

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        framework = self.get_object()
        framework.counts = matrix.framework_counts(framework=framework)  # type: ignore[attr-defined]
        return Response(FrameworkDetailSerializer(framework).data)

    @extend_schema(
        responses=FrameworkItemSerializer(many=True),
        description="Every domain and competency in tree order (parents before children).",
    )
    @action(detail=True, pagination_class=None, filterset_fields=[])
    def items(self, request: Request, pk: str | None = None) -> Response:
        rows = matrix.item_rows(framework=self.get_object())
        return Response(FrameworkItemSerializer(rows, many=True).data)

    @extend_schema(
        responses=RoleProfileSerializer(many=True),
        description="Role profiles with their own requirements and the effective ones, "
        "inherited requirements marked with `inherited_from`.",
    )
    @action(detail=True, pagination_class=None, filterset_fields=[])
    def profiles(self, request: Request, pk: str | None = None) -> Response:
        profiles = matrix.framework_profiles(framework=self.get_object())
        return Response(RoleProfileSerializer(profiles, many=True).data)


class ScaleViewSet(viewsets.ReadOnlyModelViewSet[ProficiencyScale]):
    """Proficiency scales with their ordered levels."""

    serializer_class = ScaleSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    pagination_class = None

    def get_queryset(self) -> QuerySet[ProficiencyScale]:
        return matrix.scale_list()


class RequirementView(APIView):
    """One competency's required level and weight in one role profile of a draft framework."""

    def _target(self, request: Request, pk: int, profile_code: str, item_code: str):  # type: ignore[no-untyped-def]
        framework = selectors.framework_get(user=request.user, pk=pk)
        profile, item = matrix.requirement_target(
            framework=framework, profile_code=profile_code, item_code=item_code
        )
        if not services.framework_edit_allowed(user=request.user):  # type: ignore[arg-type]
            raise _refuse(request)
        return framework, profile, item

    def _set(self, request: Request, profile, item, level, weight: int) -> Response:  # type: ignore[no-untyped-def]
        try:
            requirement = services.requirement_set(
                actor=request.user, profile=profile, item=item, level=level, weight=weight
            )
        except PermissionDenied as exc:
            raise _refuse(request) from exc
        except DjangoValidationError as exc:
            # Keep the service's error codes (framework_not_draft, ...) in the JSON body.
            raise exceptions.ValidationError(as_serializer_error(exc)) from exc
        if requirement is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(RequirementSerializer(requirement).data)

    @extend_schema(
        request=RequirementWriteSerializer,
        responses={
            200: RequirementSerializer,
            204: OpenApiResponse(description="Removed (level null or empty)"),
            400: _ERROR,
            403: _ERROR,
            404: _ERROR,
        },
        description="Set the required level and weight. Drafts only (`framework_not_draft`); "
        "framework editors only (`framework_edit_not_allowed`).",
    )
    def put(self, request: Request, pk: int, profile_code: str, item_code: str) -> Response:
        framework, profile, item = self._target(request, pk, profile_code, item_code)
        levels = {level.code: level for level in selectors.scale_levels(framework=framework)}
        body = RequirementWriteSerializer(data=request.data, context={"levels": levels})
        body.is_valid(raise_exception=True)
        return self._set(
            request, profile, item, body.validated_data["level"], body.validated_data["weight"]
        )

    @extend_schema(
        responses={
            204: OpenApiResponse(description="Removed"),
            400: _ERROR,
            403: _ERROR,
            404: _ERROR,
        },
        description="Remove the profile's own requirement (an inherited one then applies).",
    )
    def delete(self, request: Request, pk: int, profile_code: str, item_code: str) -> Response:
        _framework, profile, item = self._target(request, pk, profile_code, item_code)
        return self._set(request, profile, item, None, 2)

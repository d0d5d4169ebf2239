"""Certificates over the API: the caller's scoped list and detail, the Open Badges 3.0
credential of one (signed VC-JWT by default, decoded JSON on request), and revoking.
Thin: reads go through the scoped selectors, writes through the services."""

from __future__ import annotations

import json
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from educap.org.models import OrgUnit
from educap.training import credentials
from educap.training.models import Certificate
from educap.training.selectors import certificates as selectors
from educap.training.services import certificates as services

UUID_PATTERN = "[0-9a-fA-F-]{32,36}"

_ERROR = OpenApiResponse(
    response=inline_serializer(
        "CertificateApiError",
        fields={
            "code": serializers.CharField(),
            "detail": serializers.CharField(),
            "field": serializers.CharField(allow_null=True),
        },
    ),
    description="An error with a stable code, e.g. certificate_not_allowed, "
    "certificate_reason_required, certificate_already_revoked, certificate_revoked.",
)
_ERRORS = {400: _ERROR, 403: _ERROR, 404: _ERROR}


class CertificateRevoked(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A revoked certificate has no digital credential."
    default_code = services.CertificateErrorCode.REVOKED


class CompactJwsRenderer(renderers.BaseRenderer):
    """A VC-JWT as OB 3.0 serves it on the web: the compact JWS, as text/plain."""

    media_type = "text/plain"
    format = "jwt"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, str):
            return data.encode("utf-8")
        return json.dumps(data, ensure_ascii=False).encode("utf-8")  # an error body


class VcJwtRenderer(CompactJwsRenderer):
    """The same for clients asking for the VC-JOSE media type."""

    media_type = "application/vc+jwt"
    format = "vc+jwt"


class CertificateSerializer(serializers.ModelSerializer[Certificate]):
    course = serializers.CharField(source="course.code", read_only=True)
    is_valid = serializers.BooleanField(read_only=True)
    verify_url = serializers.SerializerMethodField()
    credential_url = serializers.SerializerMethodField()

    class Meta:
        model = Certificate
        fields = [
            "id",
            "person",
            "holder_name",
            "course",
            "course_title",
            "issuer_name",
            "completed_on",
            "hours",
            "issued_at",
            "is_valid",
            "revoked_at",
            "revocation_reason",
            "verify_url",
            "credential_url",
        ]
        read_only_fields = fields

    def _base(self) -> str:
        return credentials.public_base_url(self.context.get("request"))

    def get_verify_url(self, certificate: Certificate) -> str:
        return credentials.verify_url(certificate, self._base())

    def get_credential_url(self, certificate: Certificate) -> str:
        from django.urls import reverse

        return self._base() + reverse("certificate-credential", args=[certificate.pk])


class ReasonSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Required; shown publicly."
    )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "search",
                OpenApiTypes.STR,
                description="Holder name, staff number, course code or title, certificate id",
            ),
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(selectors.STATUSES)),
            OpenApiParameter("course", OpenApiTypes.STR, description="Course code"),
            OpenApiParameter("unit", OpenApiTypes.STR, description="Org unit code (subtree)"),
            OpenApiParameter("completed_from", OpenApiTypes.DATE),
            OpenApiParameter("completed_to", OpenApiTypes.DATE),
        ],
        description="Certificates the caller may see: their own, their direct reports', "
        "those of the staff and sessions in the subtrees they manage.",
    ),
    retrieve=extend_schema(responses={200: CertificateSerializer, 404: _ERROR}),
)
class CertificateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Certificate]
):
    serializer_class = CertificateSerializer
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self) -> Any:
        params = self.request.query_params
        code = params.get("unit", "")
        dates = serializers.DateField(required=False, allow_null=True)
        return selectors.certificate_list(
            user=self.request.user,
            search=params.get("search", ""),
            status=params.get("status", ""),
            course=params.get("course", ""),
            unit=get_object_or_404(OrgUnit, code=code) if code else None,
            completed_from=dates.to_internal_value(params["completed_from"])
            if params.get("completed_from")
            else None,
            completed_to=dates.to_internal_value(params["completed_to"])
            if params.get("completed_to")
            else None,
        )

    def get_object(self) -> Certificate:
        return selectors.certificate_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["jwt", "json"],
                description="jwt (default): the signed compact JWS as text/plain; json: the "
                "decoded credential.",
            )
        ],
        responses={
            (200, "text/plain"): OpenApiResponse(
                response=OpenApiTypes.STR, description="The VC-JWT (compact JWS)."
            ),
            (200, "application/json"): OpenApiResponse(
                response=OpenApiTypes.OBJECT, description="The OpenBadgeCredential."
            ),
            409: _ERROR,
            **_ERRORS,
        },
        description="The certificate as an Open Badges 3.0 OpenBadgeCredential signed with "
        "the installation's key (kid in the header resolves to /.well-known/jwks.json).",
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[CompactJwsRenderer, VcJwtRenderer, renderers.JSONRenderer],
        pagination_class=None,
    )
    def credential(self, request: Request, pk: str) -> Response:
        certificate = self.get_object()
        if not certificate.is_valid:
            raise CertificateRevoked
        base = credentials.public_base_url(request)
        if request.accepted_renderer.format == "json":
            return Response(credentials.credential_for(certificate, base=base))
        response = Response(credentials.credential_jwt(certificate, base=base))
        response["Content-Disposition"] = f'inline; filename="certificate-{certificate.pk}.jwt"'
        return response

    @extend_schema(
        request=ReasonSerializer,
        responses={200: CertificateSerializer, **_ERRORS},
        description="Revoke a certificate (central officers, administrators, managers of the "
        "unit that organised the session). The reason is public.",
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        return self._decide(request, services.certificate_revoke)

    @extend_schema(
        request=ReasonSerializer,
        responses={200: CertificateSerializer, **_ERRORS},
        description="Undo a revocation made in error (same people as revoking).",
    )
    @action(detail=True, methods=["post"])
    def reinstate(self, request: Request, pk: str) -> Response:
        return self._decide(request, services.certificate_reinstate)

    def _decide(self, request: Request, service: Any) -> Response:
        certificate = self.get_object()
        # Refuse before parsing, so a stranger learns nothing from field errors.
        if not services.certificate_revoke_allowed(user=request.user, certificate=certificate):
            raise exceptions.PermissionDenied(code=services.CertificateErrorCode.NOT_ALLOWED)
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # The service checks the reason, with its own error codes.
        certificate = service(
            actor=request.user,
            certificate=certificate,
            reason=body.validated_data.get("reason", ""),
        )
        return Response(CertificateSerializer(certificate, context={"request": request}).data)

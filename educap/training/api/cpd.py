"""CPD over the API: records (scoped like every read of personal data; create submits
external learning for oneself, multipart with the evidence file; approve and reject for
supervisors and managers), requirements per role and year, and a person's progress.
Thin: every read is a scoped selector, every write a service."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from educap.core.errors import CoreErrorCode
from educap.people.models import Role
from educap.people.selectors import person_get
from educap.training.models import CpdKind, CpdRecord, CpdRequirement, CpdStatus
from educap.training.selectors import cpd as selectors
from educap.training.services import cpd as services

_ERROR = OpenApiResponse(
    response=inline_serializer(
        "CpdApiError",
        fields={
            "code": serializers.CharField(),
            "detail": serializers.CharField(),
            "field": serializers.CharField(allow_null=True),
        },
    ),
    description="An error with a stable code, e.g. cpd_not_allowed, cpd_own_record, "
    "cpd_not_pending, cpd_evidence_type, file_too_large, cpd_date_in_future.",
)
_ERRORS = {400: _ERROR, 403: _ERROR, 404: _ERROR}


# --- serializers -----------------------------------------------------------------------


class CpdRecordSerializer(serializers.ModelSerializer[CpdRecord]):
    person_name = serializers.CharField(source="person.full_name", read_only=True)
    decided_by = serializers.CharField(
        source="decided_by.username", read_only=True, allow_null=True, default=None
    )
    internal = serializers.SerializerMethodField()
    evidence_url = serializers.SerializerMethodField()

    class Meta:
        model = CpdRecord
        fields = [
            "id",
            "person",
            "person_name",
            "kind",
            "title",
            "provider",
            "completed_on",
            "hours",
            "credits",
            "status",
            "submitted_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "internal",
            "evidence_url",
        ]
        read_only_fields = fields

    def get_internal(self, record: CpdRecord) -> bool:
        """Recorded by completing a course here (or reported by an external platform)."""
        return record.enrolment_id is not None or record.statement_id is not None

    @extend_schema_field(OpenApiTypes.URI)
    def get_evidence_url(self, record: CpdRecord) -> str | None:
        if not record.evidence:
            return None
        request = self.context.get("request")
        return reverse("cpd-record-evidence", args=[record.pk], request=request)


class CpdSubmitSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in services.EXTERNAL_KINDS])
    title = serializers.CharField(max_length=300)
    provider = serializers.CharField(max_length=200, required=False, allow_blank=True)
    completed_on = serializers.DateField()
    hours = serializers.DecimalField(
        max_digits=6, decimal_places=1, required=False, allow_null=True
    )
    credits = serializers.DecimalField(
        max_digits=6, decimal_places=1, required=False, allow_null=True
    )
    evidence = serializers.FileField(
        required=False,
        allow_null=True,
        help_text="PDF, JPEG or PNG (checked by content), at most EDUCAP_MAX_UPLOAD_MB.",
    )


class CpdDecisionSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class CpdRequirementSerializer(serializers.ModelSerializer[CpdRequirement]):
    role = serializers.SlugRelatedField(slug_field="code", read_only=True)
    role_name = serializers.CharField(source="role.name", read_only=True)

    class Meta:
        model = CpdRequirement
        fields = ["id", "role", "role_name", "year", "hours", "credits"]
        read_only_fields = fields


class CpdRequirementWriteSerializer(serializers.Serializer[Any]):
    role = serializers.SlugRelatedField(slug_field="code", queryset=Role.objects.all())
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    hours = serializers.DecimalField(
        max_digits=6, decimal_places=1, required=False, allow_null=True
    )
    credits = serializers.DecimalField(
        max_digits=6, decimal_places=1, required=False, allow_null=True
    )


class CpdAmountsSerializer(serializers.Serializer[Any]):
    hours = serializers.DecimalField(max_digits=8, decimal_places=1)
    credits = serializers.DecimalField(max_digits=8, decimal_places=1)
    records = serializers.IntegerField()


class CpdMeterSerializer(serializers.Serializer[Any]):
    measure = serializers.ChoiceField(choices=["hours", "credits"])
    required = serializers.DecimalField(max_digits=8, decimal_places=1)
    approved = serializers.DecimalField(max_digits=8, decimal_places=1)
    pending = serializers.DecimalField(max_digits=8, decimal_places=1)
    remaining = serializers.DecimalField(max_digits=8, decimal_places=1)
    percent = serializers.IntegerField()
    met = serializers.BooleanField()


class CpdProgressSerializer(serializers.Serializer[Any]):
    person = serializers.IntegerField(source="person.pk")
    year = serializers.IntegerField()
    requirement = CpdRequirementSerializer(allow_null=True)
    approved = CpdAmountsSerializer()
    pending = CpdAmountsSerializer()
    rejected_records = serializers.IntegerField(source="rejected_count")
    compliant = serializers.BooleanField(
        allow_null=True, help_text="Null when no requirement applies to the person's role."
    )
    meters = CpdMeterSerializer(many=True)


# --- records ---------------------------------------------------------------------------


class CpdRecordFilter(django_filters.FilterSet):
    person = django_filters.NumberFilter(field_name="person_id", help_text="Person id")
    year = django_filters.NumberFilter(method="by_year", help_text="Calendar year completed")
    status = django_filters.ChoiceFilter(choices=CpdStatus.choices)
    kind = django_filters.ChoiceFilter(choices=CpdKind.choices)

    class Meta:
        model = CpdRecord
        fields = ["person", "year", "status", "kind"]

    def by_year(self, queryset: QuerySet[CpdRecord], name: str, value: Any) -> QuerySet[CpdRecord]:
        year = int(value)
        if not 1900 <= year <= 2200:
            return queryset.none()
        return queryset.filter(completed_on__range=selectors.year_bounds(year))


@extend_schema_view(
    list=extend_schema(
        description="CPD records of the people the caller may read: their own, their direct "
        "reports (supervisors), their subtrees (managers). Newest first."
    ),
    retrieve=extend_schema(responses={200: CpdRecordSerializer, 404: _ERROR}),
)
class CpdRecordViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[CpdRecord]
):
    serializer_class = CpdRecordSerializer
    filterset_class = CpdRecordFilter
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[CpdRecord]:
        return selectors.cpd_record_list(user=self.request.user)

    def get_object(self) -> CpdRecord:
        return selectors.cpd_record_get(user=self.request.user, pk=int(self.kwargs["pk"]))

    @extend_schema(
        request={"multipart/form-data": CpdSubmitSerializer},
        responses={201: CpdRecordSerializer, **_ERRORS},
        description="Record external learning for the caller's own staff record, with the "
        "evidence file; it awaits the supervisor's approval. Codes: `cpd_kind_not_external`, "
        "`cpd_date_in_future`, `cpd_date_too_old`, `cpd_no_hours_or_credits`, "
        "`cpd_hours_out_of_range`, `cpd_evidence_required`, `cpd_evidence_type`, "
        "`file_too_large`, `cpd_duplicate`, `cpd_no_staff_record` (403).",
    )
    def create(self, request: Request) -> Response:
        body = CpdSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        record = services.cpd_submit(
            actor=request.user,  # type: ignore[arg-type]
            kind=data["kind"],
            title=data["title"],
            provider=data.get("provider", ""),
            completed_on=data["completed_on"],
            hours=data.get("hours"),
            credits=data.get("credits"),
            evidence=data.get("evidence"),
        )
        record = selectors.cpd_record_get(user=request.user, pk=record.pk)
        return Response(
            CpdRecordSerializer(record, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        responses={204: None, **_ERRORS},
        description="Withdraw one's own record while it awaits approval (`cpd_not_yours`, "
        "`cpd_not_pending`).",
    )
    def destroy(self, request: Request, pk: str) -> Response:
        services.cpd_withdraw(actor=request.user, record=self.get_object())  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _decide(self, request: Request, *, approve: bool) -> Response:
        record = self.get_object()
        body = CpdDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record = services.cpd_decide(
            actor=request.user,  # type: ignore[arg-type]
            record=record,
            approve=approve,
            note=body.validated_data["note"],
        )
        return Response(CpdRecordSerializer(record, context={"request": request}).data)

    @extend_schema(
        request=CpdDecisionSerializer,
        responses={200: CpdRecordSerializer, **_ERRORS},
        description="Approve a pending record: the person's supervisor or a manager over "
        "them, never the person (`cpd_own_record`, `cpd_not_allowed`, `cpd_not_pending`).",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._decide(request, approve=True)

    @extend_schema(
        request=CpdDecisionSerializer,
        responses={200: CpdRecordSerializer, **_ERRORS},
        description="Reject a pending record; the note saying why is required "
        "(`cpd_note_required`).",
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        return self._decide(request, approve=False)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The evidence file (PDF, JPEG or PNG)."
            ),
            404: _ERROR,
        },
        description="The evidence file, for the person, their supervisor and managers "
        "over them only.",
    )
    @action(detail=True, methods=["get"])
    def evidence(self, request: Request, pk: str) -> FileResponse:
        record = self.get_object()
        if not record.evidence:
            raise Http404
        if not selectors.cpd_evidence_allowed(user=request.user, record=record):
            raise PermissionDenied(services.CpdErrorCode.NOT_ALLOWED)
        kind = services.evidence_type_of(record.evidence.name)
        try:
            handle = record.evidence.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"cpd-evidence-{record.pk}{kind.extension}",
            content_type=kind.content_type,
        )


# --- requirements ----------------------------------------------------------------------


class CpdRequirementFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(field_name="year")
    role = django_filters.CharFilter(field_name="role__code", help_text="Role code")

    class Meta:
        model = CpdRequirement
        fields = ["year", "role"]


def _require_requirement_manager(request: Request) -> None:
    if not services.cpd_requirements_manage_allowed(user=request.user):
        raise PermissionDenied(services.CpdErrorCode.NOT_ALLOWED)


@extend_schema_view(
    list=extend_schema(description="CPD requirements per role and year (readable by all)."),
    retrieve=extend_schema(responses={200: CpdRequirementSerializer, 404: _ERROR}),
)
class CpdRequirementViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[CpdRequirement]
):
    serializer_class = CpdRequirementSerializer
    filterset_class = CpdRequirementFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[CpdRequirement]:
        return selectors.cpd_requirement_list()

    @extend_schema(
        request=CpdRequirementWriteSerializer,
        responses={201: CpdRequirementSerializer, 200: CpdRequirementSerializer, **_ERRORS},
        description="Set what a role must reach in a year (central officers and "
        "administrators). Replaces the role's requirement for that year when there is one "
        "(200). Codes: `cpd_requirement_empty`, `cpd_requirement_out_of_range`.",
    )
    def create(self, request: Request) -> Response:
        _require_requirement_manager(request)
        body = CpdRequirementWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        existed = CpdRequirement.objects.filter(role=data["role"], year=data["year"]).exists()
        requirement = services.cpd_requirement_set(
            actor=request.user,  # type: ignore[arg-type]
            role=data["role"],
            year=data["year"],
            hours=data.get("hours"),
            credits=data.get("credits"),
        )
        return Response(
            CpdRequirementSerializer(requirement).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=inline_serializer(
            "CpdRequirementChange",
            fields={
                "hours": serializers.DecimalField(
                    max_digits=6, decimal_places=1, required=False, allow_null=True
                ),
                "credits": serializers.DecimalField(
                    max_digits=6, decimal_places=1, required=False, allow_null=True
                ),
            },
        ),
        responses={200: CpdRequirementSerializer, **_ERRORS},
        description="Change the hours and credits (both are replaced: omit one to clear it).",
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        _require_requirement_manager(request)
        requirement = get_object_or_404(CpdRequirement.objects.select_related("role"), pk=pk)
        body = CpdRequirementWriteSerializer(
            data={
                "role": requirement.role.code,
                "year": requirement.year,
                "hours": request.data.get("hours"),
                "credits": request.data.get("credits"),
            }
        )
        body.is_valid(raise_exception=True)
        requirement = services.cpd_requirement_set(
            actor=request.user,  # type: ignore[arg-type]
            role=requirement.role,
            year=requirement.year,
            hours=body.validated_data.get("hours"),
            credits=body.validated_data.get("credits"),
        )
        return Response(CpdRequirementSerializer(requirement).data)

    @extend_schema(responses={204: None, **_ERRORS})
    def destroy(self, request: Request, pk: str) -> Response:
        _require_requirement_manager(request)
        requirement = get_object_or_404(CpdRequirement, pk=pk)
        services.cpd_requirement_delete(actor=request.user, requirement=requirement)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- progress --------------------------------------------------------------------------


class CpdProgressView(APIView):
    """A person's approved and pending CPD for a year against their role's requirement."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "year", OpenApiTypes.INT, description="Calendar year (default: this year)"
            )
        ],
        responses={200: CpdProgressSerializer, **_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        person = person_get(user=request.user, pk=pk)
        raw = request.query_params.get("year", "")
        year = timezone.localdate().year
        if raw:
            if not raw.isdigit() or not dt.MINYEAR <= int(raw) <= dt.MAXYEAR:
                raise serializers.ValidationError(
                    {"year": serializers.ErrorDetail("Enter a year.", code=CoreErrorCode.INVALID)}
                )
            year = int(raw)
        progress = selectors.cpd_progress(user=request.user, person=person, year=year)
        data = {
            "person": person,
            "year": year,
            "requirement": progress.requirement,
            "approved": {
                "hours": progress.approved_hours,
                "credits": progress.approved_credits,
                "records": progress.approved_count,
            },
            "pending": {
                "hours": progress.pending_hours,
                "credits": progress.pending_credits,
                "records": progress.pending_count,
            },
            "rejected_count": progress.rejected_count,
            "compliant": progress.compliant,
            "meters": progress.meters,
        }
        return Response(CpdProgressSerializer(data).data)

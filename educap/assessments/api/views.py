"""Assessments over the API: campaigns (managers write, everyone reads what they take part
in), the caller's own rater assignments with their drafts and submission, ratings
(evidence) and current levels. Thin: every read is a scoped selector, every write a service."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from educap.assessments import selectors, services
from educap.assessments.api.selectors import rating_list
from educap.assessments.api.serializers import (
    AnswersSerializer,
    CampaignDetailSerializer,
    CampaignSerializer,
    CampaignWriteSerializer,
    CurrentLevelSerializer,
    DraftSerializer,
    LaunchResultSerializer,
    ProgressSerializer,
    RaterAssignmentDetailSerializer,
    RaterAssignmentSerializer,
    RatingSerializer,
    RemindResultSerializer,
    RemindSerializer,
    SubmitResultSerializer,
    SubmitSerializer,
)
from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    RaterAssignment,
    Rating,
    Source,
    Survey,
)
from educap.frameworks.models import Framework
from educap.org.models import OrgUnit
from educap.people.models import Person, Role
from educap.people.selectors import person_get

_ERROR = OpenApiResponse(
    response=inline_serializer(
        "AssessmentApiError",
        fields={
            "code": serializers.CharField(),
            "detail": serializers.CharField(),
            "field": serializers.CharField(allow_null=True),
        },
    ),
    description="An error with a stable code, e.g. campaign_not_open, assignment_incomplete.",
)
_ERRORS = {400: _ERROR, 403: _ERROR, 404: _ERROR}


def _unit(code: str | None) -> OrgUnit | None:
    return get_object_or_404(OrgUnit, code=code) if code else None


def _require_manager(request: Request) -> None:
    """Refuse before parsing, so a non-manager gets 403 rather than a list of field errors."""
    if not services.campaign_manage_allowed(user=request.user):  # type: ignore[arg-type]
        raise PermissionDenied(services.AssessmentErrorCode.NOT_ALLOWED)


def _campaign_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Validated input → keyword arguments of campaign_create / campaign_update."""
    fields = dict(data)
    if "framework" in fields:
        fields["framework"] = get_object_or_404(Framework, pk=fields["framework"])
    if "survey" in fields:
        code = fields["survey"]
        fields["survey"] = get_object_or_404(Survey, code=code) if code else None
    if "target_units" in fields:
        codes = fields["target_units"]
        fields["target_units"] = _all_or_404(OrgUnit.objects.filter(code__in=codes), codes, "code")
    if "target_roles" in fields:
        codes = fields["target_roles"]
        fields["target_roles"] = _all_or_404(Role.objects.filter(code__in=codes), codes, "code")
    if "target_people" in fields:
        ids = fields["target_people"]
        fields["target_people"] = _all_or_404(Person.objects.filter(pk__in=ids), ids, "pk")
    return fields


def _all_or_404(queryset: QuerySet[Any], keys: list[Any], attr: str) -> list[Any]:
    found = list(queryset)
    if {getattr(row, attr) for row in found} != set(keys):
        raise Http404
    return found


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("search", OpenApiTypes.STR, description="Code or title contains"),
            OpenApiParameter("status", OpenApiTypes.STR, enum=CampaignStatus.values),
        ],
        description="Managers see every campaign; others the launched campaigns they rate "
        "in or whose units they manage or report on.",
    ),
    retrieve=extend_schema(responses={200: CampaignDetailSerializer, 404: _ERROR}),
)
class CampaignViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Campaign]
):
    serializer_class = CampaignSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Campaign]:
        params = self.request.query_params
        return selectors.campaign_list(
            user=self.request.user,
            search=params.get("search", ""),
            status=params.get("status", ""),
        ).select_related("survey")

    def get_object(self) -> Campaign:
        return selectors.campaign_get(user=self.request.user, code=self.kwargs["code"])

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        campaign = self.get_object()
        return Response(CampaignDetailSerializer(campaign).data)

    @extend_schema(
        request=CampaignWriteSerializer,
        responses={201: CampaignDetailSerializer, **_ERRORS},
        description="Create a draft campaign (system administrators and central officers).",
    )
    def create(self, request: Request) -> Response:
        _require_manager(request)
        body = CampaignWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        campaign = services.campaign_create(
            actor=request.user,  # type: ignore[arg-type]
            **_campaign_fields(body.validated_data),
        )
        return Response(CampaignDetailSerializer(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CampaignWriteSerializer,
        responses={200: CampaignDetailSerializer, **_ERRORS},
        description="Change a draft campaign; an open one only moves its closing date and "
        "texts (`campaign_not_draft`).",
    )
    def partial_update(self, request: Request, code: str) -> Response:
        _require_manager(request)
        campaign = self.get_object()
        body = CampaignWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        campaign = services.campaign_update(
            actor=request.user,  # type: ignore[arg-type]
            campaign=campaign,
            **_campaign_fields(body.validated_data),
        )
        return Response(CampaignDetailSerializer(campaign).data)

    @extend_schema(
        request=None,
        responses={200: LaunchResultSerializer, **_ERRORS},
        description="Open a draft campaign: creates one assignment per rater, person and kind.",
    )
    @action(detail=True, methods=["post"])
    def launch(self, request: Request, code: str) -> Response:
        campaign = self.get_object()
        result = services.campaign_launch(actor=request.user, campaign=campaign)  # type: ignore[arg-type]
        campaign.refresh_from_db()
        data = {**result.__dict__, "campaign": campaign}
        return Response(LaunchResultSerializer(data).data)

    @extend_schema(
        request=None,
        responses={200: CampaignSerializer, **_ERRORS},
        description="Close an open campaign; unsubmitted drafts never become evidence.",
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, code: str) -> Response:
        campaign = services.campaign_close(actor=request.user, campaign=self.get_object())  # type: ignore[arg-type]
        return Response(CampaignSerializer(campaign).data)

    @extend_schema(
        request=RemindSerializer,
        responses={200: RemindResultSerializer, **_ERRORS},
        description="E-mail every rater with unfinished work (one mail each).",
    )
    @action(detail=True, methods=["post"])
    def remind(self, request: Request, code: str) -> Response:
        campaign = self.get_object()
        body = RemindSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        unit = _unit(body.validated_data.get("unit"))
        sent = services.campaign_remind(
            actor=request.user,  # type: ignore[arg-type]
            campaign=campaign,
            unit_path=unit.path if unit else "",
            base_url=request.build_absolute_uri("/").rstrip("/"),
        )
        return Response(RemindResultSerializer({"sent": sent}).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "unit",
                OpenApiTypes.STR,
                description="Unit code: totals for that subtree and a row per child unit. "
                "Required for everyone but campaign managers.",
            )
        ],
        responses={200: ProgressSerializer, **_ERRORS},
    )
    @action(detail=True, pagination_class=None)
    def progress(self, request: Request, code: str) -> Response:
        campaign = self.get_object()
        unit = _unit(request.query_params.get("unit"))
        total, children = selectors.campaign_progress(
            user=request.user, campaign=campaign, unit=unit
        )
        return Response(ProgressSerializer({"total": total, "children": children}).data)


class RaterAssignmentFilter(django_filters.FilterSet):
    campaign = django_filters.CharFilter(field_name="campaign__code", help_text="Campaign code")
    kind = django_filters.ChoiceFilter(choices=AssignmentKind.choices)
    status = django_filters.ChoiceFilter(choices=AssignmentStatus.choices)

    class Meta:
        model = RaterAssignment
        fields = ["campaign", "kind", "status"]


class RaterAssignmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[RaterAssignment]
):
    """The caller's own work as a rater: self ratings, people to rate, tests, surveys."""

    serializer_class = RaterAssignmentSerializer
    filterset_class = RaterAssignmentFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[RaterAssignment]:
        return selectors.my_assignments(user=self.request.user).select_related("unit")

    def get_object(self) -> RaterAssignment:
        return selectors.assignment_get(user=self.request.user, pk=int(self.kwargs["pk"]))

    @extend_schema(
        responses={200: RaterAssignmentDetailSerializer, 404: _ERROR},
        description="With the competencies to rate (required level, indicators per level) "
        "and the answers saved so far.",
    )
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        assignment: Any = self.get_object()
        assignment.competencies = selectors.assignment_competencies(assignment=assignment)
        assignment.saved_drafts = selectors.assignment_drafts(assignment=assignment).values()
        assignment.self_ratings = selectors.self_ratings_for_supervisor(
            assignment=assignment
        ).values()
        return Response(RaterAssignmentDetailSerializer(assignment).data)

    @extend_schema(
        request=AnswersSerializer,
        responses={200: DraftSerializer(many=True), **_ERRORS},
        description="Save answers as drafts (level null: cannot judge). Codes: "
        "`assignment_closed`, `competency_not_in_assignment`, `level_not_on_scale`.",
    )
    @action(detail=True, methods=["put"], pagination_class=None)
    def responses(self, request: Request, pk: str) -> Response:
        assignment = self.get_object()
        body = AnswersSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.draft_save(
            actor=request.user,  # type: ignore[arg-type]
            assignment=assignment,
            answers=_answers(body.validated_data["answers"]),
        )
        drafts = selectors.assignment_drafts(assignment=assignment).values()
        return Response(DraftSerializer(drafts, many=True).data)

    @extend_schema(
        request=SubmitSerializer,
        responses={200: SubmitResultSerializer, **_ERRORS},
        description="Submit: saved answers (plus any given here) become ratings and the "
        "person's current levels are refreshed. Codes: `assignment_incomplete`, "
        "`assignment_closed`, `level_not_on_scale`.",
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        assignment = self.get_object()
        body = SubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ratings = services.assignment_submit(
            actor=request.user,  # type: ignore[arg-type]
            assignment=assignment,
            answers=_answers(body.validated_data.get("answers", [])),
        )
        assignment = self.get_object()
        return Response(
            SubmitResultSerializer({"assignment": assignment, "ratings": len(ratings)}).data
        )


def _answers(rows: list[dict[str, Any]]) -> list[services.Answer]:
    return [
        services.Answer(
            item_id=row["item"],
            level_value=row["level"],
            comment=row.get("comment", ""),
            evidence=row.get("evidence", ""),
        )
        for row in rows
    ]


class RatingFilter(django_filters.FilterSet):
    person = django_filters.NumberFilter(field_name="person_id", help_text="Person id")
    campaign = django_filters.CharFilter(field_name="campaign__code", help_text="Campaign code")
    source = django_filters.ChoiceFilter(choices=Source.choices)
    item = django_filters.NumberFilter(field_name="item_id", help_text="Competency id")

    class Meta:
        model = Rating
        fields = ["person", "campaign", "source", "item"]


class RatingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Rating]):
    """Ratings (evidence, never changed) about the people the caller may read, newest first.
    Peer raters stay anonymous to the person rated."""

    serializer_class = RatingSerializer
    filterset_class = RatingFilter

    def get_queryset(self) -> QuerySet[Rating]:
        return rating_list(user=self.request.user)


class CurrentLevelsView(APIView):
    """The consolidated level of one person in each competency assessed."""

    @extend_schema(responses={200: CurrentLevelSerializer(many=True), 404: _ERROR})
    def get(self, request: Request, pk: int) -> Response:
        person = person_get(user=request.user, pk=pk)
        levels = selectors.person_current_levels(user=request.user, person=person)
        return Response(CurrentLevelSerializer(levels.order_by("item__code"), many=True).data)

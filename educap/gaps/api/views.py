"""Gap analysis over the API, read-only and answered from the stored rollups.

Thin: each endpoint parses its filters, calls one selector (which checks what the caller
may see) and renders it. Partner viewers get small cells as null with `suppressed: true`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from educap.frameworks.models import Framework
from educap.gaps import selectors
from educap.gaps.api.serializers import (
    PersonGapsSerializer,
    RecruitmentNeedsSerializer,
    TrainingNeedsSerializer,
    UnitGapsSerializer,
)
from educap.gaps.models import GapSnapshot
from educap.gaps.selectors import GapErrorCode, GapFilters
from educap.org.models import OrgUnit
from educap.people.models import Role, Sex
from educap.people.selectors import person_get

_ERROR = OpenApiResponse(
    response=inline_serializer(
        "GapApiError",
        fields={
            "code": serializers.CharField(),
            "detail": serializers.CharField(),
            "field": serializers.CharField(allow_null=True),
        },
    ),
    description="An error with a stable code: gaps_not_allowed (403), gaps_no_framework (400).",
)
_FRAMEWORK = OpenApiParameter(
    "framework",
    OpenApiTypes.INT,
    description="Framework version id (default: the newest published one in use)",
)
_FILTERS = [
    _FRAMEWORK,
    OpenApiParameter("role", OpenApiTypes.STR, description="Role code"),
    OpenApiParameter("sex", OpenApiTypes.STR, enum=list(Sex.values)),
    OpenApiParameter(
        "period",
        OpenApiTypes.STR,
        description=(
            "Campaign code: the gaps as they stood when that campaign closed (its framework "
            "version; recruitment needs stay current). Default: now."
        ),
    ),
]
_UNIT_ERRORS = {400: _ERROR, 403: _ERROR, 404: _ERROR}


class _Query(serializers.Serializer[Any]):
    framework = serializers.IntegerField(required=False, min_value=1)
    role = serializers.CharField(required=False)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    period = serializers.CharField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200)


def _framework(pk: int | None) -> Framework:
    framework = (
        selectors.gap_frameworks().filter(pk=pk).first()
        if pk is not None
        else selectors.default_framework()
    )
    if framework is None:
        raise ValidationError(
            {"framework": ValidationError(_("No published framework with role requirements."),
                                          code=GapErrorCode.NO_FRAMEWORK)}
        )  # fmt: skip
    return framework


def _filters(request: Request) -> tuple[GapFilters, dict[str, Any]]:
    query = _Query(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    role = get_object_or_404(Role, code=data["role"]) if data.get("role") else None
    snapshot = None
    if data.get("period"):
        snapshot = get_object_or_404(
            GapSnapshot.objects.select_related("campaign__framework"),
            campaign__code=data["period"],
        )
        framework = snapshot.campaign.framework
    else:
        framework = _framework(data.get("framework"))
    return GapFilters(framework, role, data.get("sex", ""), snapshot), data


def _unit(code: str) -> OrgUnit:
    return get_object_or_404(OrgUnit.objects.select_related("level"), code=code)


class UnitGapsView(APIView):
    """One unit's subtree: totals per competency and a row per child unit (the heat map)."""

    @extend_schema(parameters=_FILTERS, responses={200: UnitGapsSerializer, **_UNIT_ERRORS})
    def get(self, request: Request, code: str) -> Response:
        unit = _unit(code)
        filters, _data = _filters(request)
        matrix = selectors.unit_matrix(user=request.user, unit=unit, filters=filters)
        codes = {item.pk: item.code for item in matrix.competencies}

        def cells(by_item: dict[int, selectors.GapStats]) -> list[tuple[str, Any]]:
            return [(codes[pk], by_item[pk]) for pk in codes if pk in by_item]

        data = {
            "unit": unit,
            "framework": filters.framework,
            "suppressed": matrix.suppressed,
            "competencies": matrix.competencies,
            "total": matrix.total,
            "cells": cells(matrix.columns),
            "children": [
                {"unit": child, "total": total, "cells": cells(by_item)}
                for child, total, by_item in matrix.children
            ],
        }
        return Response(UnitGapsSerializer(data).data)


class TrainingNeedsView(APIView):
    """The training-needs analysis: competencies ranked by priority (Σ weight·gap), with
    the people below by role and sex."""

    @extend_schema(
        parameters=[
            *_FILTERS,
            OpenApiParameter("limit", OpenApiTypes.INT, description="At most 200; default 10"),
        ],
        responses={200: TrainingNeedsSerializer, **_UNIT_ERRORS},
    )
    def get(self, request: Request, code: str) -> Response:
        unit = _unit(code)
        filters, data = _filters(request)
        needs = selectors.training_needs(
            user=request.user, unit=unit, filters=filters, limit=data.get("limit", 10)
        )
        roles = dict(Role.objects.values_list("pk", "code")) if needs else {}
        rows = [
            {
                "item": need.item,
                "stats": need.stats,
                "below_by_role_sex": [
                    {"role": roles[role_id], "sex": sex, "below": below}
                    for (role_id, sex), below in sorted(need.below_by_role_sex.items())
                ],
            }
            for need in needs
        ]
        body = {"unit": unit, "framework": filters.framework, "needs": rows}
        return Response(TrainingNeedsSerializer(body).data)


class RecruitmentNeedsView(APIView):
    """Units below this one where nobody in a role meets a critical competency, and
    vacant positions."""

    @extend_schema(
        parameters=[
            *_FILTERS,
            OpenApiParameter("limit", OpenApiTypes.INT, description="At most 200 (default)"),
        ],
        responses={200: RecruitmentNeedsSerializer, **_UNIT_ERRORS},
    )
    def get(self, request: Request, code: str) -> Response:
        unit = _unit(code)
        filters, data = _filters(request)
        needs = selectors.recruitment_needs(
            user=request.user, unit=unit, filters=filters, limit=data.get("limit", 200)
        )
        body = {"unit": unit, "framework": filters.framework, "needs": needs}
        return Response(RecruitmentNeedsSerializer(body).data)


class PersonGapsView(APIView):
    """One person's gaps against their role's profile (404 outside the caller's scope)."""

    @extend_schema(
        parameters=[_FRAMEWORK], responses={200: PersonGapsSerializer, 400: _ERROR, 404: _ERROR}
    )
    def get(self, request: Request, pk: int) -> Response:
        person = person_get(user=request.user, pk=pk)
        query = _Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        pk_framework = query.validated_data.get("framework")
        framework = _framework(pk_framework) if pk_framework is not None else None
        summary = selectors.person_gaps(user=request.user, person=person, framework=framework)
        return Response(PersonGapsSerializer(summary).data)

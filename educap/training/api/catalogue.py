"""The training catalogue over the API: `/api/v1/courses/` and `/api/v1/programmes/`.

Every authenticated user reads the catalogue (active courses and programmes); catalogue
managers (system administrators and central officers) also see inactive ones and write.
Thin: reads go through selectors.catalogue, writes through services.catalogue; errors carry
the codes of `CatalogueErrorCode`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
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
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from educap.frameworks.models import Framework, FrameworkItem, FrameworkStatus
from educap.people.models import Role
from educap.training.models import (
    Course,
    CourseMaterial,
    CourseModule,
    Modality,
    Programme,
    ProviderKind,
    Track,
)
from educap.training.selectors.catalogue import (
    ORDERINGS,
    catalogue_record_queryset,
    course_get,
    course_list,
    programme_get,
    programme_list,
)
from educap.training.services import catalogue as services

LANGUAGES = ("en", "ar", "fr", "lo")


def _translated(*names: str) -> list[str]:
    """`name` (in the request's language) then `name_en`, `name_ar`, `name_fr`, `name_lo`."""
    return [f for name in names for f in (name, *(f"{name}_{lang}" for lang in LANGUAGES))]


_ERROR = OpenApiResponse(
    response=inline_serializer(
        "CatalogueApiError",
        fields={
            "code": serializers.CharField(),
            "detail": serializers.CharField(),
            "field": serializers.CharField(allow_null=True),
        },
    ),
    description="An error with a stable code, e.g. catalogue_not_allowed, "
    "course_prerequisite_cycle, course_competency_level_not_on_scale.",
)
_ERRORS = {400: _ERROR, 403: _ERROR, 404: _ERROR}


# --- serializers -------------------------------------------------------------------------


class ProgrammeSerializer(serializers.ModelSerializer[Programme]):
    courses = serializers.IntegerField(
        source="n_courses", read_only=True, help_text="Courses in the programme you can see."
    )

    class Meta:
        model = Programme
        fields = ["code", *_translated("title", "description"), "is_active", "courses"]


class ProgrammeWriteSerializer(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField(max_length=40)
    title_en = serializers.CharField(max_length=300)
    title_ar = serializers.CharField(max_length=300, required=False, allow_blank=True)
    title_fr = serializers.CharField(max_length=300, required=False, allow_blank=True)
    title_lo = serializers.CharField(max_length=300, required=False, allow_blank=True)
    description_en = serializers.CharField(required=False, allow_blank=True)
    description_ar = serializers.CharField(required=False, allow_blank=True)
    description_fr = serializers.CharField(required=False, allow_blank=True)
    description_lo = serializers.CharField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class CourseCompetencySerializer(serializers.Serializer[Any]):
    framework = serializers.CharField(source="item.framework.code")
    framework_version = serializers.CharField(source="item.framework.version")
    competency = serializers.CharField(source="item.code")
    statement = serializers.CharField(source="item.statement")
    level = serializers.IntegerField(help_text="The level of the scale the course brings to.")


class CourseModuleSerializer(serializers.ModelSerializer[CourseModule]):
    class Meta:
        model = CourseModule
        fields = ["sequence", *_translated("title", "description"), "duration_hours"]


class CourseMaterialSerializer(serializers.ModelSerializer[CourseMaterial]):
    download = serializers.SerializerMethodField(help_text="Where to fetch an uploaded file.")

    class Meta:
        model = CourseMaterial
        fields = ["id", "title", "url", "download"]

    def get_download(self, material: CourseMaterial) -> str | None:
        if not material.file:
            return None
        path = reverse(
            "training:course_material_download", args=[material.course.code, material.pk]
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class CourseSerializer(serializers.ModelSerializer[Course]):
    programme = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # Plain strings: enums named like these in other apps would collide in the schema.
    track = serializers.CharField(read_only=True, help_text="core, role or leadership")
    modality = serializers.CharField(
        read_only=True, help_text="face, online, blended, webinar, job or micro"
    )
    provider_kind = serializers.CharField(
        read_only=True, help_text="internal, university, ngo or online"
    )
    target_roles = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    competencies = CourseCompetencySerializer(many=True, read_only=True)
    next_session_on = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="First day of the next planned or open session.",
    )

    class Meta:
        model = Course
        fields = [
            "code",
            *_translated("title"),
            "programme",
            "track",
            "modality",
            "duration_hours",
            "cpd_credits",
            "provider_kind",
            "provider_name",
            "target_roles",
            "competencies",
            "cost_per_cohort",
            "cost_per_participant",
            "min_attendance_percent",
            "pass_mark",
            "records_evidence",
            "is_active",
            "next_session_on",
        ]


class CourseDetailSerializer(CourseSerializer):
    prerequisites = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    modules = CourseModuleSerializer(many=True, read_only=True)
    materials = CourseMaterialSerializer(many=True, read_only=True)

    class Meta(CourseSerializer.Meta):
        fields = [
            *CourseSerializer.Meta.fields[:6],
            *_translated("description"),
            *CourseSerializer.Meta.fields[6:-1],
            "prerequisites",
            "modules",
            "materials",
            "created_at",
            "updated_at",
        ]


class CompetencyWriteSerializer(serializers.Serializer[dict[str, Any]]):
    framework = serializers.CharField(help_text="Framework code, e.g. EMIS-STAFF.")
    version = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Framework version; empty: the latest published (else draft) version.",
    )
    competency = serializers.CharField(help_text="Competency code, e.g. DQ.2.")
    level = serializers.IntegerField(min_value=0, help_text="Level reached on the scale.")


class ModuleWriteSerializer(serializers.Serializer[dict[str, Any]]):
    title_en = serializers.CharField(max_length=300)
    title_ar = serializers.CharField(max_length=300, required=False, allow_blank=True)
    title_fr = serializers.CharField(max_length=300, required=False, allow_blank=True)
    title_lo = serializers.CharField(max_length=300, required=False, allow_blank=True)
    description_en = serializers.CharField(required=False, allow_blank=True)
    description_ar = serializers.CharField(required=False, allow_blank=True)
    description_fr = serializers.CharField(required=False, allow_blank=True)
    description_lo = serializers.CharField(required=False, allow_blank=True)
    duration_hours = serializers.DecimalField(
        max_digits=6, decimal_places=1, required=False, allow_null=True
    )


class CourseWriteSerializer(serializers.Serializer[dict[str, Any]]):
    """Input for create (code, title_en and duration_hours required) and update (any subset).
    Lists given replace what the course has; `modules` replaces all modules."""

    code = serializers.CharField(max_length=40)
    programme = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Programme code."
    )
    title_en = serializers.CharField(max_length=300)
    title_ar = serializers.CharField(max_length=300, required=False, allow_blank=True)
    title_fr = serializers.CharField(max_length=300, required=False, allow_blank=True)
    title_lo = serializers.CharField(max_length=300, required=False, allow_blank=True)
    description_en = serializers.CharField(required=False, allow_blank=True)
    description_ar = serializers.CharField(required=False, allow_blank=True)
    description_fr = serializers.CharField(required=False, allow_blank=True)
    description_lo = serializers.CharField(required=False, allow_blank=True)
    track = serializers.ChoiceField(choices=Track.choices, required=False)
    modality = serializers.ChoiceField(choices=Modality.choices, required=False)
    duration_hours = serializers.DecimalField(max_digits=6, decimal_places=1)
    cpd_credits = serializers.DecimalField(max_digits=6, decimal_places=1, required=False)
    provider_kind = serializers.ChoiceField(choices=ProviderKind.choices, required=False)
    provider_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    cost_per_cohort = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    cost_per_participant = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    min_attendance_percent = serializers.IntegerField(min_value=0, max_value=100, required=False)
    pass_mark = serializers.IntegerField(
        min_value=0, max_value=100, required=False, allow_null=True
    )
    records_evidence = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    target_roles = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Role codes."
    )
    prerequisites = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Course codes."
    )
    competencies = CompetencyWriteSerializer(many=True, required=False)
    modules = ModuleWriteSerializer(many=True, required=False)


# --- resolving codes ---------------------------------------------------------------------


def _require_manager(request: Request) -> None:
    """Refuse before parsing, so a non-manager gets 403 rather than a list of field errors."""
    if not services.catalogue_manage_allowed(user=request.user):  # type: ignore[arg-type]
        raise PermissionDenied(services.CatalogueErrorCode.NOT_ALLOWED)


def _unknown(field: str, code: str, values: list[str]) -> ApiValidationError:
    return ApiValidationError(
        {
            field: [
                serializers.ErrorDetail(
                    _("Unknown: %(values)s.") % {"values": ", ".join(values)}, code=code
                )
            ]
        }
    )


def _by_code(model: type[Any], codes: list[str], field: str, code: str) -> list[Any]:
    found = {obj.code: obj for obj in model.objects.filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise _unknown(field, code, missing)
    return [found[c] for c in dict.fromkeys(codes)]


def _competencies(rows: list[dict[str, Any]]) -> list[services.CompetencyTarget]:
    targets = []
    for row in rows:
        frameworks = Framework.objects.filter(code=row["framework"])
        if row.get("version"):
            framework = frameworks.filter(version=row["version"]).first()
        else:
            framework = (
                frameworks.filter(status=FrameworkStatus.PUBLISHED)
                .order_by("-published_at", "-pk")
                .first()
                or frameworks.filter(status=FrameworkStatus.DRAFT).order_by("-pk").first()
            )
        if framework is None:
            raise _unknown(
                "competencies",
                services.CatalogueErrorCode.FRAMEWORK_UNKNOWN,
                [f"{row['framework']} {row.get('version', '')}".strip()],
            )
        item = FrameworkItem.objects.select_related("framework").filter(
            framework=framework, code=row["competency"]
        )
        found = item.first()
        if found is None:
            raise _unknown(
                "competencies", services.CatalogueErrorCode.COMPETENCY_UNKNOWN, [row["competency"]]
            )
        targets.append(services.CompetencyTarget(item=found, level=row["level"]))
    return targets


def _course_arguments(data: dict[str, Any]) -> dict[str, Any]:
    """Validated input → keyword arguments of course_create / course_update."""
    fields = dict(data)
    if "programme" in fields:
        code = fields["programme"]
        fields["programme"] = (
            _by_code(Programme, [code], "programme", services.CatalogueErrorCode.PROGRAMME_UNKNOWN)[
                0
            ]
            if code
            else None
        )
    if "target_roles" in fields:
        fields["target_roles"] = _by_code(
            Role, fields["target_roles"], "target_roles", services.CatalogueErrorCode.ROLE_UNKNOWN
        )
    if "prerequisites" in fields:
        fields["prerequisites"] = _by_code(
            Course,
            fields["prerequisites"],
            "prerequisites",
            services.CatalogueErrorCode.COURSE_UNKNOWN,
        )
    if "competencies" in fields:
        fields["competencies"] = _competencies(fields["competencies"])
    if "modules" in fields:
        fields["modules"] = [
            services.ModuleInput(
                title={lang: m.get(f"title_{lang}", "") for lang in LANGUAGES},
                description={lang: m.get(f"description_{lang}", "") for lang in LANGUAGES},
                duration_hours=m.get("duration_hours"),
            )
            for m in fields["modules"]
        ]
    return fields


def _detail(course: Course) -> Course:
    """The course with what the detail serializer reads, in a fixed number of queries."""
    return (
        catalogue_record_queryset(Course.objects.filter(pk=course.pk))
        .prefetch_related("modules", "materials__course")
        .get()
    )


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return True
    if value.lower() in ("all", "any"):
        return None
    return value.lower() in ("1", "true", "yes")


# --- views -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "search", OpenApiTypes.STR, description="Code or title (any language)"
            ),
            OpenApiParameter("track", OpenApiTypes.STR, enum=Track.values),
            OpenApiParameter("modality", OpenApiTypes.STR, enum=Modality.values),
            OpenApiParameter("provider_kind", OpenApiTypes.STR, enum=ProviderKind.values),
            OpenApiParameter("role", OpenApiTypes.STR, description="Target role code"),
            OpenApiParameter(
                "competency", OpenApiTypes.STR, description="Competency code, e.g. DQ.2"
            ),
            OpenApiParameter("programme", OpenApiTypes.STR, description="Programme code"),
            OpenApiParameter(
                "active",
                OpenApiTypes.STR,
                enum=["true", "false", "all"],
                description="Managers only (others always get active courses); default true.",
            ),
            OpenApiParameter("ordering", OpenApiTypes.STR, enum=list(ORDERINGS)),
        ],
        description="The training catalogue, for every authenticated user.",
    ),
    retrieve=extend_schema(responses={200: CourseDetailSerializer, 404: _ERROR}),
)
class CourseViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Course]
):
    serializer_class = CourseSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Course]:
        params = self.request.query_params
        return course_list(
            user=self.request.user,
            search=params.get("search", ""),
            track=params.get("track", ""),
            modality=params.get("modality", ""),
            provider_kind=params.get("provider_kind", ""),
            role=params.get("role", ""),
            competency=params.get("competency", ""),
            programme=params.get("programme", ""),
            active=_flag(params.get("active")),
            ordering=params.get("ordering", "code"),
        )

    def get_object(self) -> Course:
        return course_get(user=self.request.user, code=self.kwargs["code"])

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        course = _detail(self.get_object())
        return Response(CourseDetailSerializer(course, context={"request": request}).data)

    @extend_schema(
        request=CourseWriteSerializer,
        responses={201: CourseDetailSerializer, **_ERRORS},
        description="Add a course (catalogue managers).",
    )
    def create(self, request: Request) -> Response:
        _require_manager(request)
        body = CourseWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        course = services.course_create(
            actor=request.user,  # type: ignore[arg-type]
            **_course_arguments(body.validated_data),
        )
        return Response(
            CourseDetailSerializer(_detail(course), context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=CourseWriteSerializer,
        responses={200: CourseDetailSerializer, **_ERRORS},
        description="Change a course (catalogue managers); lists given replace the old ones.",
    )
    def partial_update(self, request: Request, code: str) -> Response:
        _require_manager(request)
        course = self.get_object()
        body = CourseWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        course = services.course_update(
            actor=request.user,  # type: ignore[arg-type]
            course=course,
            **_course_arguments(body.validated_data),
        )
        return Response(CourseDetailSerializer(_detail(course), context={"request": request}).data)

    @extend_schema(
        request=None,
        responses={200: CourseDetailSerializer, **_ERRORS},
        description="Take the course out of the catalogue; sessions and records stay.",
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, code: str) -> Response:
        _require_manager(request)
        course = services.course_deactivate(actor=request.user, course=self.get_object())  # type: ignore[arg-type]
        return Response(CourseDetailSerializer(_detail(course), context={"request": request}).data)


@extend_schema_view(
    list=extend_schema(description="Programmes, with how many of their courses you can see."),
    retrieve=extend_schema(responses={200: ProgrammeSerializer, 404: _ERROR}),
)
class ProgrammeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Programme]
):
    serializer_class = ProgrammeSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Programme]:
        return programme_list(user=self.request.user)

    def get_object(self) -> Programme:
        return programme_get(user=self.request.user, code=self.kwargs["code"])

    def _fresh(self, programme: Programme) -> Programme:
        return get_object_or_404(programme_list(user=self.request.user), pk=programme.pk)

    @extend_schema(
        request=ProgrammeWriteSerializer,
        responses={201: ProgrammeSerializer, **_ERRORS},
        description="Add a programme (catalogue managers).",
    )
    def create(self, request: Request) -> Response:
        _require_manager(request)
        body = ProgrammeWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        programme = services.programme_create(actor=request.user, **body.validated_data)  # type: ignore[arg-type]
        return Response(
            ProgrammeSerializer(self._fresh(programme)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=ProgrammeWriteSerializer,
        responses={200: ProgrammeSerializer, **_ERRORS},
        description="Change a programme (catalogue managers).",
    )
    def partial_update(self, request: Request, code: str) -> Response:
        _require_manager(request)
        programme = self.get_object()
        body = ProgrammeWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        programme = services.programme_update(
            actor=request.user,  # type: ignore[arg-type]
            programme=programme,
            **body.validated_data,
        )
        return Response(ProgrammeSerializer(self._fresh(programme)).data)

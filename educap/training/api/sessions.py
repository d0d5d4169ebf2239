"""Training sessions and enrolments over the API. Thin: every read is a scoped selector,
every write a service (educap.training.services.sessions), errors carry stable codes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
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

from educap.accounts.scope import scope_for
from educap.frameworks.models import FrameworkItem
from educap.org.models import OrgUnit
from educap.people.models import Person, Role, Sex
from educap.training.models import (
    Course,
    Enrolment,
    EnrolmentStatus,
    SessionDay,
    SessionStatus,
    TrainingSession,
)
from educap.training.selectors import sessions as selectors
from educap.training.services import sessions as services
from educap.training.services.sessions import ScheduleDay, SessionErrorCode

_ERROR = OpenApiResponse(
    response=inline_serializer(
        "SessionApiError",
        fields={
            "code": serializers.CharField(),
            "detail": serializers.CharField(),
            "field": serializers.CharField(allow_null=True),
        },
    ),
    description="An error with a stable code, e.g. session_not_allowed, "
    "session_unit_out_of_scope, session_closed_for_enrolment, enrolment_exists, "
    "session_not_running, enrolment_not_seated.",
)
_ERRORS = {400: _ERROR, 403: _ERROR, 404: _ERROR}


# --- serializers -----------------------------------------------------------------------


class SessionDaySerializer(serializers.ModelSerializer[SessionDay]):
    class Meta:
        model = SessionDay
        fields = ["date", "starts_at", "ends_at", "topic"]


class TrainingSessionSerializer(serializers.ModelSerializer[TrainingSession]):
    course = serializers.CharField(source="course.code", read_only=True)
    course_title = serializers.CharField(source="course.title", read_only=True)
    unit = serializers.CharField(source="unit.code", read_only=True)
    # Plain strings: enums named "status" in several apps would collide in the schema.
    status = serializers.CharField(
        read_only=True, help_text="planned, open, running, completed or cancelled"
    )
    seated = serializers.IntegerField(read_only=True, help_text="Seats taken.")
    waitlisted = serializers.IntegerField(read_only=True)
    requested = serializers.IntegerField(read_only=True, help_text="Awaiting approval.")

    class Meta:
        model = TrainingSession
        fields = [
            "code",
            "course",
            "course_title",
            "unit",
            "starts_on",
            "ends_on",
            "venue",
            "online_url",
            "capacity",
            "seated",
            "waitlisted",
            "requested",
            "status",
            "requires_approval",
            "planned_cost",
            "actual_cost",
        ]


class TrainingSessionDetailSerializer(TrainingSessionSerializer):
    days = SessionDaySerializer(many=True, read_only=True)
    facilitators = serializers.SlugRelatedField(
        slug_field="staff_number", many=True, read_only=True
    )

    class Meta(TrainingSessionSerializer.Meta):
        fields = [*TrainingSessionSerializer.Meta.fields, "days", "facilitators", "created_at"]


class SessionWriteSerializer(serializers.Serializer[dict[str, Any]]):
    """Input for create (required fields) and update (any subset; not code nor days)."""

    code = serializers.CharField(
        max_length=60, required=False, allow_blank=True, help_text="Empty: COURSE-YYMM."
    )
    course = serializers.CharField(help_text="Course code (an active course).")
    unit = serializers.CharField(help_text="Code of the org unit organising the session.")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    capacity = serializers.IntegerField(min_value=1, max_value=10_000)
    venue = serializers.CharField(max_length=300, required=False, allow_blank=True)
    online_url = serializers.URLField(required=False, allow_blank=True)
    requires_approval = serializers.BooleanField(required=False)
    planned_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False,
        help_text="Empty: the course's cost for a full cohort.",
    )  # fmt: skip
    actual_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    facilitators = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Staff numbers."
    )
    days = SessionDaySerializer(
        many=True, required=False, help_text="The schedule; default every date from start to end."
    )


class TransitionSerializer(serializers.Serializer[dict[str, Any]]):
    status = serializers.ChoiceField(
        choices=[SessionStatus.OPEN, SessionStatus.RUNNING, SessionStatus.CANCELLED]
    )


class CompleteSerializer(serializers.Serializer[dict[str, Any]]):
    scores = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=100, allow_null=True),
        required=False,
        help_text="Final test score (%) by enrolment id.",
    )
    completed_on = serializers.DateField(required=False)
    actual_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )


class CompletionResultSerializer(serializers.Serializer[Any]):
    completed = serializers.ListField(child=serializers.IntegerField(), help_text="Enrolment ids.")
    not_completed = serializers.ListField(child=serializers.IntegerField())
    certificates = serializers.ListField(child=serializers.UUIDField())
    withdrawn = serializers.IntegerField()


class NeedsEnrolSerializer(serializers.Serializer[dict[str, Any]]):
    unit = serializers.CharField(help_text="Org unit code (with its subtree).")
    item = serializers.IntegerField(help_text="Competency (framework item) id.")
    role = serializers.CharField(required=False, allow_blank=True, help_text="Role code.")
    sex = serializers.ChoiceField(choices=[("", ""), *Sex.choices], required=False)


class EnrolmentSerializer(serializers.ModelSerializer[Enrolment]):
    session = serializers.CharField(source="session.code", read_only=True)
    person = serializers.IntegerField(source="person_id", read_only=True)
    person_name = serializers.CharField(source="person.full_name", read_only=True)
    status = serializers.CharField(
        read_only=True,
        help_text="requested, enrolled, waitlisted, rejected, withdrawn, completed, not_completed",
    )
    route = serializers.CharField(read_only=True, help_text="self, nominated, needs or xapi")

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "session",
            "person",
            "person_name",
            "route",
            "status",
            "requested_at",
            "decided_at",
            "attendance_percent",
            "score",
            "passed",
            "completed_at",
        ]


class EnrolResultSerializer(serializers.Serializer[Any]):
    enrolled = EnrolmentSerializer(many=True)
    waitlisted = EnrolmentSerializer(many=True)
    requested = EnrolmentSerializer(many=True)
    skipped = serializers.ListField(child=serializers.IntegerField(), help_text="Person ids.")
    conflicts = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Person id → codes of their other sessions at the same time.",
    )


class EnrolmentCreateSerializer(serializers.Serializer[dict[str, Any]]):
    session = serializers.CharField(help_text="Session code.")
    person = serializers.IntegerField(
        required=False,
        help_text="Person id. Omitted or yourself: a self-enrolment request; someone else: "
        "a nomination (their supervisor or a manager of their unit).",
    )


class AttendanceMarkSerializer(serializers.Serializer[dict[str, Any]]):
    enrolment = serializers.IntegerField()
    present = serializers.BooleanField()


class AttendanceWriteSerializer(serializers.Serializer[dict[str, Any]]):
    date = serializers.DateField(help_text="A day of the schedule.")
    marks = AttendanceMarkSerializer(many=True)


class AttendanceRowSerializer(serializers.Serializer[Any]):
    enrolment = serializers.IntegerField()
    person = serializers.IntegerField()
    name = serializers.CharField()
    staff_number = serializers.CharField()
    marks = serializers.DictField(
        child=serializers.BooleanField(), help_text="Date → present; unmarked days are missing."
    )


class AttendanceGridSerializer(serializers.Serializer[Any]):
    days = SessionDaySerializer(many=True)
    rows = AttendanceRowSerializer(many=True)


# --- helpers ---------------------------------------------------------------------------


def _by_code(model: Any, code: str | None, field: str = "code") -> Any:
    return get_object_or_404(model, **{field: code}) if code else None


def _people(numbers: list[str]) -> list[Person]:
    found = list(Person.objects.filter(staff_number__in=numbers, is_active=True))
    if len(found) != len(set(numbers)):
        raise Http404
    return found


def _session_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = dict(data)
    if "course" in fields:
        fields["course"] = _by_code(Course, fields["course"])
    if "unit" in fields:
        fields["unit"] = _by_code(OrgUnit, fields["unit"])
    if "facilitators" in fields:
        fields["facilitators"] = _people(fields["facilitators"])
    if "days" in fields:
        fields["days"] = [ScheduleDay(**day) for day in fields["days"]]
    return fields


def _result_data(result: services.EnrolmentResult) -> dict[str, Any]:
    return {
        "enrolled": result.enrolled,
        "waitlisted": result.waitlisted,
        "requested": result.requested,
        "skipped": result.skipped,
        "conflicts": {
            str(pk): [e.session.code for e in rows] for pk, rows in result.conflicts.items()
        },
    }


# --- sessions --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("search", OpenApiTypes.STR, description="Code or course contains"),
            OpenApiParameter("status", OpenApiTypes.STR, enum=SessionStatus.values),
            OpenApiParameter("course", OpenApiTypes.STR, description="Course code"),
            OpenApiParameter("unit", OpenApiTypes.STR, description="Unit code (with subtree)"),
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM: overlapping"),
        ],
        description="Organisers see their subtree's sessions; everyone the open sessions "
        "they could join, the ones they are enrolled in or facilitate.",
    ),
    retrieve=extend_schema(responses={200: TrainingSessionDetailSerializer, 404: _ERROR}),
)
class TrainingSessionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[TrainingSession]
):
    serializer_class = TrainingSessionSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[TrainingSession]:
        params = self.request.query_params
        return selectors.session_list(
            user=self.request.user,
            search=params.get("search", ""),
            status=params.get("status", ""),
            course=_by_code(Course, params.get("course")),
            unit=_by_code(OrgUnit, params.get("unit")),
            month=selectors.parse_month(params.get("month", "")),
        ).order_by("-starts_on", "code")

    def get_object(self) -> TrainingSession:
        return selectors.session_get(user=self.request.user, code=self.kwargs["code"])

    def _detail(self, code: str) -> Response:
        session = selectors.session_get(user=self.request.user, code=code)
        return Response(TrainingSessionDetailSerializer(session).data)

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self._detail(self.kwargs["code"])

    @extend_schema(
        request=SessionWriteSerializer,
        responses={201: TrainingSessionDetailSerializer, **_ERRORS},
        description="Plan a session (managers of the organising unit).",
    )
    def create(self, request: Request) -> Response:
        body = SessionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = _session_fields(body.validated_data)
        fields.pop("actual_cost", None)
        session = services.session_create(actor=request.user, **fields)  # type: ignore[arg-type]
        response = self._detail(session.code)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(
        request=SessionWriteSerializer,
        responses={200: TrainingSessionDetailSerializer, **_ERRORS},
        description="Change a session; code and schedule stay (see the web schedule page).",
    )
    def partial_update(self, request: Request, code: str) -> Response:
        session = self.get_object()
        body = SessionWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        fields = _session_fields(body.validated_data)
        fields.pop("code", None)
        fields.pop("days", None)
        services.session_update(
            actor=request.user,  # type: ignore[arg-type]
            session=session,
            facilitators=fields.pop("facilitators", None),
            **fields,
        )
        return self._detail(session.code)

    @extend_schema(
        request=TransitionSerializer,
        responses={200: TrainingSessionSerializer, **_ERRORS},
        description="planned → open → running; any of them → cancelled (withdraws everyone).",
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, code: str) -> Response:
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.session_transition(
            actor=request.user,  # type: ignore[arg-type]
            session=self.get_object(),
            status=body.validated_data["status"],
        )
        return self._detail(code)

    @extend_schema(
        request=CompleteSerializer,
        responses={200: CompletionResultSerializer, **_ERRORS},
        description="Complete a running session: attendance % from the register, the "
        "course's rule decides; passers get a certificate, CPD and evidence.",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, code: str) -> Response:
        body = CompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        scores = {int(k): v for k, v in data.get("scores", {}).items() if str(k).isdigit()}
        result = services.session_complete(
            actor=request.user,  # type: ignore[arg-type]
            session=self.get_object(),
            scores=scores,
            completed_on=data.get("completed_on"),
            actual_cost=data.get("actual_cost"),
        )
        return Response(
            CompletionResultSerializer(
                {
                    "completed": [e.pk for e in result.completed],
                    "not_completed": [e.pk for e in result.not_completed],
                    "certificates": [c.pk for c in result.certificates],
                    "withdrawn": result.withdrawn,
                }
            ).data
        )

    @extend_schema(
        request=NeedsEnrolSerializer,
        responses={200: EnrolResultSerializer, **_ERRORS},
        description="Enrol the people of a unit subtree below the requirement of a "
        "competency (training-needs analysis), biggest gap first; the rest wait.",
    )
    @action(detail=True, methods=["post"], url_path="enrol-from-needs")
    def enrol_from_needs(self, request: Request, code: str) -> Response:
        body = NeedsEnrolSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = services.enrolment_bulk_from_needs(
            actor=request.user,  # type: ignore[arg-type]
            session=self.get_object(),
            unit=_by_code(OrgUnit, data["unit"]),
            item=get_object_or_404(FrameworkItem, pk=data["item"]),
            role=_by_code(Role, data.get("role")),
            sex=data.get("sex", ""),
        )
        return Response(EnrolResultSerializer(_result_data(result)).data)

    @extend_schema(
        methods=["GET"],
        responses={200: AttendanceGridSerializer, **_ERRORS},
        description="Seated participants × schedule days (organisers and facilitators).",
    )
    @extend_schema(
        methods=["POST"],
        request=AttendanceWriteSerializer,
        responses={200: AttendanceGridSerializer, **_ERRORS},
        description="Record present/absent for one day of a running session.",
    )
    @action(detail=True, methods=["get", "post"])
    def attendance(self, request: Request, code: str) -> Response:
        session = self.get_object()
        if not services.session_run_allowed(actor=request.user, session=session):  # type: ignore[arg-type]
            raise PermissionDenied(SessionErrorCode.NOT_ALLOWED)
        if request.method == "POST":
            body = AttendanceWriteSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            day = SessionDay.objects.filter(
                session=session, date=body.validated_data["date"]
            ).first()
            if day is None:
                raise ValidationError(
                    "That day is not in this session's schedule.",
                    code=SessionErrorCode.DAY_UNKNOWN,
                )
            services.attendance_record(
                actor=request.user,  # type: ignore[arg-type]
                session=session,
                day=day,
                marks={m["enrolment"]: m["present"] for m in body.validated_data["marks"]},
            )
        grid = selectors.attendance_grid(session=session)
        dates = {d.pk: d.date.isoformat() for d in grid.days}
        return Response(
            AttendanceGridSerializer(
                {
                    "days": grid.days,
                    "rows": [
                        {
                            "enrolment": row.enrolment.pk,
                            "person": row.enrolment.person_id,
                            "name": row.enrolment.person.full_name,
                            "staff_number": row.enrolment.person.staff_number,
                            "marks": {dates[d]: v for d, v in row.marks.items()},
                        }
                        for row in grid.rows
                    ],
                }
            ).data
        )


# --- enrolments ------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("session", OpenApiTypes.STR, description="Session code"),
            OpenApiParameter("status", OpenApiTypes.STR, enum=EnrolmentStatus.values),
            OpenApiParameter("person", OpenApiTypes.INT, description="Person id"),
        ],
        description="Enrolments of the people you may read and of the sessions you "
        "organise or facilitate.",
    ),
    retrieve=extend_schema(responses={200: EnrolmentSerializer, 404: _ERROR}),
)
class EnrolmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Enrolment]
):
    serializer_class = EnrolmentSerializer

    def get_queryset(self) -> QuerySet[Enrolment]:
        params = self.request.query_params
        enrolments = selectors.enrolment_list(user=self.request.user)
        if params.get("session"):
            enrolments = enrolments.filter(session__code=params["session"])
        if params.get("status"):
            enrolments = enrolments.filter(status=params["status"])
        if str(params.get("person", "")).isdigit():
            enrolments = enrolments.filter(person_id=int(params["person"]))
        return enrolments

    @extend_schema(
        request=EnrolmentCreateSerializer,
        responses={201: EnrolmentSerializer, **_ERRORS},
        description="Ask for a place yourself (may wait for your supervisor's approval), or "
        "nominate someone: a seat while there is one, else the waitlist.",
    )
    def create(self, request: Request) -> Response:
        body = EnrolmentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session = selectors.session_get(user=request.user, code=body.validated_data["session"])
        own = scope_for(request.user).person_id
        person_id = body.validated_data.get("person", own)
        if person_id is None:
            raise PermissionDenied(SessionErrorCode.NOT_ALLOWED)
        person = get_object_or_404(Person, pk=person_id)
        if person_id == own:
            enrolment = services.enrolment_request(
                actor=request.user,  # type: ignore[arg-type]
                session=session,
                person=person,
            )
        else:
            result = services.enrolment_nominate(
                actor=request.user,  # type: ignore[arg-type]
                session=session,
                people=[person],
            )
            if not result.added:
                raise ValidationError(
                    "Already enrolled in this course.", code=SessionErrorCode.ALREADY_ENROLLED
                )
            enrolment = result.added[0]
        enrolment = Enrolment.objects.select_related("session", "person").get(pk=enrolment.pk)
        return Response(EnrolmentSerializer(enrolment).data, status=status.HTTP_201_CREATED)

    def _decide(self, request: Request, approve: bool) -> Response:
        enrolment = services.enrolment_decide(
            actor=request.user,  # type: ignore[arg-type]
            enrolment=self.get_object(),
            approve=approve,
        )
        return Response(EnrolmentSerializer(enrolment).data)

    @extend_schema(
        request=None,
        responses={200: EnrolmentSerializer, **_ERRORS},
        description="Approve a request (the person's supervisor or a manager over them).",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: int) -> Response:
        return self._decide(request, approve=True)

    @extend_schema(
        request=None,
        responses={200: EnrolmentSerializer, **_ERRORS},
        description="Reject a request.",
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: int) -> Response:
        return self._decide(request, approve=False)

    @extend_schema(
        request=None,
        responses={200: EnrolmentSerializer, **_ERRORS},
        description="Withdraw; a freed seat goes to the earliest on the waitlist.",
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: int) -> Response:
        enrolment = services.enrolment_withdraw(
            actor=request.user,  # type: ignore[arg-type]
            enrolment=self.get_object(),
        )
        return Response(EnrolmentSerializer(enrolment).data)

"""Reads of the training catalogue.

The catalogue is not personal data: every signed-in user reads it. Catalogue managers (see
`permissions.can_manage_catalogue`) also see inactive courses and programmes; everybody else
sees active ones only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import (
    CharField,
    Count,
    Min,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.utils import timezone, translation

from educap.frameworks.models import FrameworkItem, ScaleLevel
from educap.people.models import Role
from educap.training.io.catalogue import LANGUAGES, CompetencyRef, CourseRecord, Texts
from educap.training.models import (
    Course,
    CourseCompetency,
    CourseMaterial,
    CourseModule,
    Programme,
    SessionStatus,
    TrainingSession,
)
from educap.training.permissions import can_manage_catalogue

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User

# Sessions a course page lists as coming up.
UPCOMING_STATUSES = (SessionStatus.PLANNED, SessionStatus.OPEN)
ORDERINGS = ("code", "title", "duration", "-duration", "credits", "newest")


def _title_in(language: str) -> Any:
    """The title in `language`, falling back to English when it has none."""
    text: CharField[str, str] = CharField()
    if language not in LANGUAGES or language == "en":
        return Coalesce("title_en", Value(""), output_field=text)
    return Coalesce(
        NullIf(f"title_{language}", Value(""), output_field=text),
        "title_en",
        Value(""),
        output_field=text,
    )


def _ordered(courses: QuerySet[Course], ordering: str) -> QuerySet[Course]:
    if ordering == "title":
        language = (translation.get_language() or "en").split("-")[0]
        return courses.annotate(title_sort=_title_in(language)).order_by("title_sort", "code")
    by = {
        "duration": ("duration_hours", "code"),
        "-duration": ("-duration_hours", "code"),
        "credits": ("-cpd_credits", "code"),
        "newest": ("-created_at", "code"),
    }
    return courses.order_by(*by.get(ordering, ("code",)))


def course_list(
    *,
    user: User | AnonymousUser | None,
    search: str = "",
    track: str = "",
    modality: str = "",
    provider_kind: str = "",
    role: str = "",
    competency: str = "",
    programme: str = "",
    active: bool | None = True,
    ordering: str = "code",
) -> QuerySet[Course]:
    """Courses matching the filters, with their programme, target roles and competencies.

    `role`, `competency` and `programme` are codes (a competency code matches that competency
    in every framework version). `active=None` lists active and inactive courses (managers
    only: everybody else always gets active courses). Each course carries `next_session_on`,
    the first day of its next planned or open session.
    """
    courses = Course.objects.select_related("programme")
    if not can_manage_catalogue(user):
        active = True
    if active is not None:
        courses = courses.filter(is_active=active)
    for term in search.split()[:5]:
        matches = Q(code__icontains=term)
        for lang in LANGUAGES:
            matches |= Q(**{f"title_{lang}__icontains": term})
        courses = courses.filter(matches)
    if track:
        courses = courses.filter(track=track)
    if modality:
        courses = courses.filter(modality=modality)
    if provider_kind:
        courses = courses.filter(provider_kind=provider_kind)
    if role:
        courses = courses.filter(
            pk__in=Course.target_roles.through.objects.filter(role__code=role).values("course_id")
        )
    if competency:
        courses = courses.filter(
            pk__in=CourseCompetency.objects.filter(item__code=competency).values("course_id")
        )
    if programme:
        courses = courses.filter(programme__code=programme)
    today = timezone.localdate()
    courses = courses.annotate(
        next_session_on=Min(
            "sessions__starts_on",
            filter=Q(sessions__status__in=UPCOMING_STATUSES, sessions__starts_on__gte=today),
        )
    ).prefetch_related(
        Prefetch("target_roles", queryset=Role.objects.order_by("name")),
        Prefetch(
            "competencies",
            queryset=CourseCompetency.objects.select_related("item__framework").order_by(
                "item__sequence", "item__code"
            ),
        ),
    )
    return _ordered(courses, ordering if ordering in ORDERINGS else "code")


def course_get(*, user: User | AnonymousUser | None, code: str) -> Course:
    """One course the user may see, with its programme; 404 otherwise."""
    courses = Course.objects.select_related("programme")
    if not can_manage_catalogue(user):
        courses = courses.filter(is_active=True)
    try:
        return courses.get(code=code)
    except Course.DoesNotExist as exc:
        raise Http404 from exc


@dataclass(frozen=True)
class CompetencyRow:
    """A competency a course develops, and the level (with its name) it brings learners to."""

    link: CourseCompetency
    item: FrameworkItem
    level: int
    level_name: str


@dataclass(frozen=True)
class CourseDetail:
    course: Course
    modules: list[CourseModule]
    competencies: list[CompetencyRow]
    target_roles: list[Role]
    prerequisites: list[Course]
    unlocks: list[Course]
    materials: list[CourseMaterial]
    upcoming_sessions: list[TrainingSession]

    @property
    def module_hours(self) -> Any:
        return sum((m.duration_hours for m in self.modules if m.duration_hours), start=0)


def course_detail(
    *, user: User | AnonymousUser | None, code: str, today: dt.date | None = None
) -> CourseDetail:
    """Everything a course page shows, in a fixed number of queries (nine)."""
    manager = can_manage_catalogue(user)
    visible_courses = Course.objects.all() if manager else Course.objects.filter(is_active=True)
    course = course_get(user=user, code=code)
    links = list(
        CourseCompetency.objects.filter(course=course)
        .select_related("item__framework", "item__parent")
        .order_by("item__framework__code", "item__sequence", "item__code")
    )
    scale_ids = {link.item.framework.scale_id for link in links}
    level_names = {
        (level.scale_id, level.value): level.name
        for level in ScaleLevel.objects.filter(scale_id__in=scale_ids)
    }
    competencies = [
        CompetencyRow(
            link=link,
            item=link.item,
            level=link.level,
            level_name=level_names.get((link.item.framework.scale_id, link.level), ""),
        )
        for link in links
    ]
    return CourseDetail(
        course=course,
        modules=list(course.modules.order_by("sequence", "pk")),
        competencies=competencies,
        target_roles=list(course.target_roles.order_by("name")),
        prerequisites=list(course.prerequisites.filter(pk__in=visible_courses.values("pk"))),
        unlocks=list(course.unlocks.filter(pk__in=visible_courses.values("pk"))),
        materials=list(course.materials.order_by("title", "pk")),
        upcoming_sessions=course_upcoming_sessions(course=course, today=today),
    )


def course_upcoming_sessions(
    *, course: Course, today: dt.date | None = None, limit: int = 20
) -> list[TrainingSession]:
    """Planned or open sessions of the course starting today or later, soonest first."""
    today = today or timezone.localdate()
    return list(
        TrainingSession.objects.filter(
            course=course, status__in=UPCOMING_STATUSES, starts_on__gte=today
        )
        .select_related("unit")
        .order_by("starts_on", "code")[:limit]
    )


def programme_list(*, user: User | AnonymousUser | None) -> QuerySet[Programme]:
    """Programmes with the number of (visible) courses in each."""
    manager = can_manage_catalogue(user)
    programmes = Programme.objects.all()
    if not manager:
        programmes = programmes.filter(is_active=True)
    course_filter = Q() if manager else Q(courses__is_active=True)
    return programmes.annotate(n_courses=Count("courses", filter=course_filter)).order_by("code")


def programme_get(*, user: User | AnonymousUser | None, code: str) -> Programme:
    try:
        return programme_list(user=user).get(code=code)
    except Programme.DoesNotExist as exc:
        raise Http404 from exc


@dataclass(frozen=True)
class FilterOptions:
    programmes: list[Programme]
    roles: list[Role]
    competencies: list[FrameworkItem]


def catalogue_filter_options(*, user: User | AnonymousUser | None) -> FilterOptions:
    """Choices for the catalogue filters: only what some course actually uses."""
    items = (
        FrameworkItem.objects.filter(
            pk__in=CourseCompetency.objects.values("item_id"),
        )
        .select_related("framework")
        .order_by("code", "-framework__created_at")
    )
    by_code: dict[str, FrameworkItem] = {}
    for item in items:
        by_code.setdefault(item.code, item)
    return FilterOptions(
        programmes=list(programme_list(user=user)),
        roles=list(
            Role.objects.filter(
                pk__in=Course.target_roles.through.objects.values("role_id")
            ).order_by("name")
        ),
        competencies=sorted(by_code.values(), key=lambda i: _natural_code(i.code)),
    )


def _natural_code(code: str) -> tuple[Any, ...]:
    """DQ.2 before DQ.10."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in code.split("."))


# --- export ------------------------------------------------------------------------------


def catalogue_export_courses(*, user: User | AnonymousUser | None) -> QuerySet[Course]:
    """The courses an export holds (managers: inactive ones too), ready for `catalogue_records`."""
    courses = Course.objects.all()
    if not can_manage_catalogue(user):
        courses = courses.filter(is_active=True)
    return catalogue_record_queryset(courses)


def catalogue_record_queryset(courses: QuerySet[Course]) -> QuerySet[Course]:
    return (
        courses.select_related("programme")
        .prefetch_related(
            Prefetch("prerequisites", queryset=Course.objects.only("pk", "code").order_by("code")),
            Prefetch("target_roles", queryset=Role.objects.only("pk", "code").order_by("code")),
            Prefetch(
                "competencies",
                queryset=CourseCompetency.objects.select_related("item__framework").order_by(
                    "item__framework__code", "item__sequence", "item__code"
                ),
            ),
        )
        .order_by("code")
    )


def _texts(obj: Any, name: str) -> Texts:
    return {lang: value for lang in LANGUAGES if (value := getattr(obj, f"{name}_{lang}", None))}


def catalogue_records(*, courses: Iterable[Course]) -> list[CourseRecord]:
    """Courses as `io.catalogue.CourseRecord`s (use `catalogue_record_queryset` first)."""
    records = []
    for course in courses:
        programme = course.programme
        records.append(
            CourseRecord(
                code=course.code,
                title=_texts(course, "title"),
                description=_texts(course, "description"),
                duration_hours=course.duration_hours,
                programme=programme.code if programme else "",
                programme_title=_texts(programme, "title") if programme else {},
                track=course.track,
                modality=course.modality,
                cpd_credits=course.cpd_credits,
                provider_kind=course.provider_kind,
                provider_name=course.provider_name,
                prerequisites=[c.code for c in course.prerequisites.all()],
                target_roles=[r.code for r in course.target_roles.all()],
                competencies=[
                    CompetencyRef(
                        framework=link.item.framework.code,
                        version=link.item.framework.version,
                        item=link.item.code,
                        level=link.level,
                    )
                    for link in course.competencies.all()
                ],
                cost_per_cohort=course.cost_per_cohort,
                cost_per_participant=course.cost_per_participant,
                min_attendance_percent=course.min_attendance_percent,
                pass_mark=course.pass_mark,
                records_evidence=course.records_evidence,
                active=course.is_active,
            )
        )
    return records

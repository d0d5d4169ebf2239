"""Catalogue reads: search, filters, visibility of inactive courses, fixed query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.http import Http404
from django.utils import timezone, translation

from educap.assessments.tests.factories import make_published_framework
from educap.frameworks.services import framework_new_version
from educap.people.models import Role
from educap.training.models import (
    CourseCompetency,
    CourseMaterial,
    CourseModule,
    Modality,
    Programme,
    ProviderKind,
    SessionStatus,
    Track,
)
from educap.training.selectors.catalogue import (
    catalogue_filter_options,
    course_detail,
    course_list,
    programme_list,
)
from educap.training.tests.factories import make_course, make_session

pytestmark = pytest.mark.django_db


def _codes(queryset) -> list[str]:
    return [c.code for c in queryset]


@pytest.fixture
def catalogue(ministry):
    framework = make_published_framework()
    programme = Programme.objects.create(code="DQ", title_en="Data quality")
    make_course(
        "DQ-1",
        framework=framework,
        programme=programme,
        title_en="Cleaning data",
        title_fr="Nettoyer les données",
        title_ar="تنقية البيانات",
        track=Track.ROLE,
        modality=Modality.ONLINE,
        provider_kind=ProviderKind.UNIVERSITY,
    )
    lead = make_course(
        "LM-1",
        title_en="Leading teams",
        title_ar="قيادة الفرق",
        track=Track.LEADERSHIP,
        duration_hours=Decimal(30),
    )
    lead.target_roles.set([Role.objects.get(code="head_teacher")])
    make_course("OLD-1", title_en="Old course", is_active=False)
    return framework


def test_search_by_code_and_title_in_any_language(ministry, catalogue) -> None:
    user = ministry.users["teacher"]
    assert _codes(course_list(user=user, search="dq-")) == ["DQ-1"]
    assert _codes(course_list(user=user, search="données")) == ["DQ-1"]
    assert _codes(course_list(user=user, search="الفرق")) == ["LM-1"]
    assert _codes(course_list(user=user, search="leading teams")) == ["LM-1"]
    assert _codes(course_list(user=user, search="nothing like it")) == []


def test_filters(ministry, catalogue) -> None:
    user = ministry.users["teacher"]
    assert _codes(course_list(user=user, track="leadership")) == ["LM-1"]
    assert _codes(course_list(user=user, modality="online")) == ["DQ-1"]
    assert _codes(course_list(user=user, provider_kind="university")) == ["DQ-1"]
    assert _codes(course_list(user=user, role="head_teacher")) == ["LM-1"]
    assert _codes(course_list(user=user, programme="DQ")) == ["DQ-1"]
    assert _codes(course_list(user=user, competency="D1.2")) == ["DQ-1"]
    # A competency code matches every framework version, without repeating the course.
    draft = framework_new_version(actor=None, framework=catalogue, version="2.0")
    course = course_list(user=user, search="DQ-1").get()
    CourseCompetency.objects.create(course=course, item=draft.items.get(code="D1.2"), level=2)
    assert _codes(course_list(user=user, competency="D1.2")) == ["DQ-1"]


def test_inactive_courses_are_for_managers(ministry, catalogue) -> None:
    assert _codes(course_list(user=ministry.users["teacher"], active=None)) == ["DQ-1", "LM-1"]
    assert _codes(course_list(user=ministry.users["gov1"], active=False)) == ["DQ-1", "LM-1"]
    central = ministry.users["central"]
    assert _codes(course_list(user=central, active=None)) == ["DQ-1", "LM-1", "OLD-1"]
    assert _codes(course_list(user=central, active=False)) == ["OLD-1"]
    with pytest.raises(Http404):
        course_detail(user=ministry.users["teacher"], code="OLD-1")
    assert course_detail(user=central, code="OLD-1").course.code == "OLD-1"
    assert [p.code for p in programme_list(user=ministry.users["teacher"])] == ["DQ"]


def test_ordering(ministry, catalogue) -> None:
    user = ministry.users["teacher"]
    assert _codes(course_list(user=user, ordering="-duration")) == ["LM-1", "DQ-1"]
    with translation.override("ar"):
        # تنقية before قيادة in Arabic.
        assert _codes(course_list(user=user, ordering="title")) == ["DQ-1", "LM-1"]
    with translation.override("en"):
        assert _codes(course_list(user=user, ordering="title")) == ["DQ-1", "LM-1"]
    assert _codes(course_list(user=user, ordering="bogus")) == ["DQ-1", "LM-1"]


def test_next_session_and_upcoming_sessions(ministry, catalogue) -> None:
    today = timezone.localdate()
    course = course_list(user=None, search="DQ-1").get()
    unit = ministry.units["G1D1"]
    make_session(course, unit, code="S-PAST", starts_on=today - dt.timedelta(days=3))
    make_session(course, unit, code="S-LATER", starts_on=today + dt.timedelta(days=40))
    make_session(
        course, unit, code="S-SOON", starts_on=today + dt.timedelta(days=5),
        status=SessionStatus.PLANNED,
    )  # fmt: skip
    make_session(
        course, unit, code="S-OFF", starts_on=today + dt.timedelta(days=1),
        status=SessionStatus.CANCELLED,
    )  # fmt: skip
    listed = course_list(user=ministry.users["teacher"], search="DQ-1").get()
    assert listed.next_session_on == today + dt.timedelta(days=5)
    detail = course_detail(user=ministry.users["teacher"], code="DQ-1")
    assert [s.code for s in detail.upcoming_sessions] == ["S-SOON", "S-LATER"]


def test_detail_contents(ministry, catalogue) -> None:
    course = course_list(user=None, search="DQ-1").get()
    lead = course_list(user=None, search="LM-1").get()
    lead.prerequisites.set([course])
    CourseModule.objects.create(course=course, sequence=2, title_en="Second")
    CourseModule.objects.create(course=course, sequence=1, title_en="First")
    CourseMaterial.objects.create(course=course, title="Guide", url="https://example.org")
    detail = course_detail(user=ministry.users["teacher"], code="DQ-1")
    assert [m.title for m in detail.modules] == ["First", "Second"]
    assert [(r.item.code, r.level, r.level_name) for r in detail.competencies] == [
        ("D1.1", 3, "Proficient"),
        ("D1.2", 3, "Proficient"),
    ]
    assert [c.code for c in detail.unlocks] == ["LM-1"]
    assert [m.title for m in detail.materials] == ["Guide"]


def test_filter_options_list_only_what_courses_use(ministry, catalogue) -> None:
    options = catalogue_filter_options(user=ministry.users["teacher"])
    assert [r.code for r in options.roles] == ["head_teacher"]
    assert [i.code for i in options.competencies] == ["D1.1", "D1.2"]
    assert [p.code for p in options.programmes] == ["DQ"]


def _grow(framework, n: int) -> None:
    roles = list(Role.objects.all())
    for i in range(n):
        course = make_course(f"X-{i:03d}", framework=framework)
        course.target_roles.set(roles)
        course.prerequisites.set([course.__class__.objects.get(code="DQ-1")])
        CourseModule.objects.create(course=course, title_en="M")
        CourseMaterial.objects.create(course=course, title="L", url="https://example.org")


def test_list_and_detail_take_a_fixed_number_of_queries(
    ministry, catalogue, django_assert_num_queries
) -> None:
    user = ministry.users["teacher"]

    def list_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            for course in course_list(user=user):
                list(course.target_roles.all())
                [link.item.code for link in course.competencies.all()]
                _ = course.programme
        return len(queries)

    list_queries()  # the user's grants are read once, then kept on the user
    few = list_queries()
    _grow(catalogue, 12)
    assert list_queries() == few
    with django_assert_num_queries(9):
        detail = course_detail(user=user, code="X-011")
        [row.item.framework.title for row in detail.competencies]
        [r.name for r in detail.target_roles]

"""The catalogue API: read for everyone signed in, write for catalogue managers, stable codes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from educap.assessments.tests.factories import make_published_framework
from educap.core.testing import MiniMinistry
from educap.people.models import Role
from educap.training.models import Course, CourseMaterial, CourseModule, Programme
from educap.training.tests.factories import make_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_for(ministry: MiniMinistry):
    def _client(username: str | None) -> APIClient:
        client = APIClient()
        if username is not None:
            client.force_authenticate(ministry.users[username])
        return client

    return _client


@pytest.fixture
def framework(ministry):
    return make_published_framework()


@pytest.fixture
def course(ministry, framework) -> Course:
    programme = Programme.objects.create(code="DQ", title_en="Data quality", title_ar="الجودة")
    course = make_course("DQ-1", framework=framework, programme=programme, title_en="Cleaning")
    course.target_roles.set([Role.objects.get(code="emis_officer")])
    CourseModule.objects.create(course=course, sequence=1, title_en="Rules")
    CourseMaterial.objects.create(course=course, title="Site", url="https://example.org")
    return course


def test_read_needs_authentication(api_for, course) -> None:
    response = api_for(None).get("/api/v1/courses/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_list_filters_and_detail(api_for, course) -> None:
    make_course("LM-1", title_en="Leading", track="leadership")
    make_course("OLD-1", is_active=False)
    teacher = api_for("teacher")
    body = teacher.get("/api/v1/courses/").json()
    assert [r["code"] for r in body["results"]] == ["DQ-1", "LM-1"]
    first = body["results"][0]
    assert first["programme"] == "DQ"
    assert first["target_roles"] == ["emis_officer"]
    assert [(c["competency"], c["level"]) for c in first["competencies"]] == [
        ("D1.1", 3),
        ("D1.2", 3),
    ]
    assert first["title_ar"] == "دورة DQ-1"

    def codes(query: str) -> list[str]:
        return [r["code"] for r in teacher.get(f"/api/v1/courses/?{query}").json()["results"]]

    assert codes("track=leadership") == ["LM-1"]
    assert codes("search=clean") == ["DQ-1"]
    assert codes("competency=D1.2") == ["DQ-1"]
    assert codes("role=emis_officer") == ["DQ-1"]
    assert codes("programme=DQ") == ["DQ-1"]
    assert codes("active=all") == ["DQ-1", "LM-1"]  # staff never see inactive courses
    central = api_for("central")
    assert [r["code"] for r in central.get("/api/v1/courses/?active=all").json()["results"]] == [
        "DQ-1",
        "LM-1",
        "OLD-1",
    ]
    detail = teacher.get("/api/v1/courses/DQ-1/").json()
    assert detail["modules"][0]["title_en"] == "Rules"
    assert detail["materials"] == [
        {
            "id": CourseMaterial.objects.get().pk,
            "title": "Site",
            "url": "https://example.org",
            "download": None,
        }
    ]
    assert teacher.get("/api/v1/courses/OLD-1/").status_code == 404
    assert central.get("/api/v1/courses/OLD-1/").status_code == 200


def test_managers_create_and_update(api_for, course, framework) -> None:
    payload = {
        "code": "NEW-1",
        "title_en": "New",
        "title_fr": "Nouveau",
        "duration_hours": "6",
        "programme": "DQ",
        "track": "leadership",
        "modality": "webinar",
        "target_roles": ["head_teacher"],
        "prerequisites": ["DQ-1"],
        "competencies": [{"framework": "EMIS-T", "competency": "D2.2", "level": 4}],
        "modules": [{"title_en": "Part one", "duration_hours": "3"}],
    }
    refused = api_for("teacher").post("/api/v1/courses/", payload, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "catalogue_not_allowed")
    central = api_for("central")
    response = central.post("/api/v1/courses/", payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["prerequisites"] == ["DQ-1"]
    assert body["competencies"][0]["framework_version"] == "1.0"
    assert body["modules"][0]["title"] == "Part one"
    changed = central.patch(
        "/api/v1/courses/NEW-1/", {"title_ar": "جديد", "target_roles": []}, format="json"
    ).json()
    assert changed["title_ar"] == "جديد"
    assert changed["target_roles"] == []
    assert changed["prerequisites"] == ["DQ-1"]  # not given, not changed


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"prerequisites": ["NOPE"]}, "catalogue_course_unknown", "prerequisites"),
        ({"target_roles": ["pilot"]}, "catalogue_role_unknown", "target_roles"),
        ({"programme": "NOPE"}, "catalogue_programme_unknown", "programme"),
        (
            {"competencies": [{"framework": "EMIS-T", "competency": "D1.1", "level": 9}]},
            "course_competency_level_not_on_scale",
            "competencies",
        ),
        (
            {"competencies": [{"framework": "EMIS-T", "competency": "D1", "level": 1}]},
            "course_competency_not_a_competency",
            "competencies",
        ),
        (
            {"competencies": [{"framework": "NOPE", "competency": "D1.1", "level": 1}]},
            "catalogue_framework_unknown",
            "competencies",
        ),
        ({"track": "expert"}, "invalid_choice", "track"),
        ({"code": "DQ-1"}, "unique", "code"),
    ],
)
def test_errors_have_codes(api_for, course, payload, code, field) -> None:
    central = api_for("central")
    body = {"code": "NEW-2", "title_en": "New", "duration_hours": "1", **payload}
    response = central.post("/api/v1/courses/", body, format="json")
    assert response.status_code == 400, response.json()
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert not Course.objects.filter(code="NEW-2").exists()


def test_cycles_are_refused_on_update(api_for, course) -> None:
    central = api_for("central")
    central.post(
        "/api/v1/courses/",
        {"code": "B", "title_en": "B", "duration_hours": "1", "prerequisites": ["DQ-1"]},
        format="json",
    )
    response = central.patch("/api/v1/courses/DQ-1/", {"prerequisites": ["B"]}, format="json")
    assert response.json()["code"] == "course_prerequisite_cycle"
    response = central.patch("/api/v1/courses/DQ-1/", {"prerequisites": ["DQ-1"]}, format="json")
    assert response.json()["code"] == "course_prerequisite_self"


def test_deactivate(api_for, course) -> None:
    assert api_for("gov1").post("/api/v1/courses/DQ-1/deactivate/").status_code == 403
    body = api_for("admin").post("/api/v1/courses/DQ-1/deactivate/").json()
    assert body["is_active"] is False
    assert api_for("teacher").get("/api/v1/courses/DQ-1/").status_code == 404


def test_programmes(api_for, course) -> None:
    teacher = api_for("teacher")
    assert teacher.get("/api/v1/programmes/").json()["results"] == [
        {
            "code": "DQ",
            "title": "Data quality",
            "title_en": "Data quality",
            "title_ar": "الجودة",
            "title_fr": None,
            "title_lo": None,
            "description": "",
            "description_en": None,
            "description_ar": None,
            "description_fr": None,
            "description_lo": None,
            "is_active": True,
            "courses": 1,
        }
    ]
    refused = teacher.post("/api/v1/programmes/", {"code": "X", "title_en": "X"})
    assert refused.json()["code"] == "catalogue_not_allowed"
    central = api_for("central")
    created = central.post("/api/v1/programmes/", {"code": "LM", "title_en": "Leadership"})
    assert (created.status_code, created.json()["courses"]) == (201, 0)
    changed = central.patch("/api/v1/programmes/LM/", {"is_active": False}, format="json")
    assert changed.json()["is_active"] is False
    assert teacher.get("/api/v1/programmes/LM/").status_code == 404
    missing = central.post("/api/v1/programmes/", {"code": "Q", "title_en": ""})
    assert missing.status_code == 400


def test_list_query_count_does_not_grow(api_for, course, framework) -> None:
    teacher = api_for("teacher")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert teacher.get("/api/v1/courses/").status_code == 200
        return len(queries)

    count()
    few = count()
    roles = list(Role.objects.all())
    for i in range(15):
        make_course(f"X-{i}", framework=framework).target_roles.set(roles)
    assert count() == few


def test_schema_describes_the_catalogue(api_for) -> None:
    schema = api_for("teacher").get("/api/schema/?format=json").json()
    assert "/api/v1/courses/{code}/" in schema["paths"]
    assert "/api/v1/programmes/" in schema["paths"]

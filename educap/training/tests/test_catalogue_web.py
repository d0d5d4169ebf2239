"""Catalogue pages: who sees and does what, forms, materials, import preview, export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from educap.assessments.tests.factories import make_published_framework
from educap.core.testing import MiniMinistry
from educap.people.models import Role
from educap.training.io.catalogue import COLUMNS, parse_csv
from educap.training.models import Course, CourseMaterial, CourseModule, Programme
from educap.training.tests.factories import make_course, make_session
from educap.training.web.catalogue import session_url

pytestmark = pytest.mark.django_db


def client_for(ministry: MiniMinistry, username: str) -> Client:
    client = Client()
    client.force_login(ministry.users[username])
    return client


@pytest.fixture
def framework(ministry):
    return make_published_framework()


@pytest.fixture
def course(ministry, framework) -> Course:
    programme = Programme.objects.create(code="DQ", title_en="Data quality")
    course = make_course(
        "DQ-1",
        framework=framework,
        programme=programme,
        title_en="Cleaning data",
        title_ar="تنقية البيانات",
        description_en="Checks and more checks.",
    )
    course.target_roles.set([Role.objects.get(code="emis_officer")])
    CourseModule.objects.create(course=course, sequence=1, title_en="Validation rules")
    return course


# --- list --------------------------------------------------------------------------------


def test_list_for_every_signed_in_user_with_filters_and_htmx(ministry, course) -> None:
    assert Client().get("/training/courses/").status_code == 302
    make_course("LM-1", title_en="Leading teams", track="leadership")
    make_course("OLD-1", title_en="Retired course", is_active=False)
    client = client_for(ministry, "teacher")
    html = client.get("/training/courses/").content.decode()
    assert "Cleaning data" in html
    assert "Leading teams" in html
    assert "Retired course" not in html
    assert "New course" not in html
    html = client.get("/training/courses/?track=leadership").content.decode()
    assert "Leading teams" in html
    assert "Cleaning data" not in html
    partial = client.get("/training/courses/?q=clean", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial
    assert "Cleaning data" in partial
    empty = client.get("/training/courses/?q=zzz").content.decode()
    assert "No course matches these filters." in empty
    # Unknown filter values are ignored, not errors.
    assert client.get("/training/courses/?track=bogus&sort=bogus").status_code == 200
    manager = client_for(ministry, "central").get("/training/courses/?active=").content.decode()
    assert "Retired course" in manager
    assert "New course" in manager


def test_list_in_arabic_shows_arabic_titles(ministry, course) -> None:
    client = client_for(ministry, "teacher")
    client.cookies["django_language"] = "ar"
    html = client.get("/training/courses/").content.decode()
    assert 'dir="rtl"' in html
    assert "تنقية البيانات" in html


def test_empty_catalogue(ministry) -> None:
    html = client_for(ministry, "teacher").get("/training/courses/").content.decode()
    assert "No course is offered yet." in html
    html = client_for(ministry, "central").get("/training/courses/").content.decode()
    assert "The catalogue is empty." in html


def test_list_query_count_does_not_grow_with_the_catalogue(ministry, framework) -> None:
    client = client_for(ministry, "teacher")
    roles = list(Role.objects.all())

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            c = make_course(f"C-{i:03d}", framework=framework, programme=programme)
            c.target_roles.set(roles)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/training/courses/").status_code == 200
        return len(queries)

    programme = Programme.objects.create(code="P", title_en="P")
    add(3, 0)
    count()
    few = count()
    add(20, 3)
    assert count() == few
    assert few <= 16


# --- course page -------------------------------------------------------------------------


def test_course_page(ministry, course, monkeypatch) -> None:
    today = timezone.localdate()
    make_session(course, ministry.units["G1D1"], code="S-NEXT", starts_on=today + dt.timedelta(7))
    make_session(course, ministry.units["G1D1"], code="S-PAST", starts_on=today - dt.timedelta(7))
    client = client_for(ministry, "teacher")
    html = client.get("/training/courses/DQ-1/").content.decode()
    for text in (
        "Cleaning data",
        "Checks and more checks.",
        "Validation rules",
        "Proficient",
        "EMIS officer",
        "Training centre",
        "A cohort of 25 costs 1,500.00.",
    ):
        assert text in html, text
    assert (today + dt.timedelta(7)).strftime("%Y") in html
    assert "Edit" not in html
    assert client.get("/training/courses/NOPE/").status_code == 404
    assert (
        client_for(ministry, "central")
        .get("/training/courses/DQ-1/")
        .content.decode()
        .count("/training/courses/DQ-1/edit/")
    )


def test_session_links_only_when_the_sessions_page_exists(ministry, course, monkeypatch) -> None:
    session = make_session(course, ministry.units["G1D1"], code="S-1")
    from educap.training.web import catalogue

    def reverse(name, args):
        if args == ("S-1",):
            return "/training/sessions/S-1/"
        raise catalogue.NoReverseMatch

    monkeypatch.setattr(catalogue, "reverse", reverse)
    assert session_url(session) == "/training/sessions/S-1/"

    def missing(name, args):
        raise catalogue.NoReverseMatch

    monkeypatch.setattr(catalogue, "reverse", missing)
    assert session_url(session) is None


# --- course form -------------------------------------------------------------------------


def _form_data(**extra) -> dict[str, object]:
    data: dict[str, object] = {
        "code": "NEW-1",
        "programme": "",
        "title_en": "A new course",
        "title_ar": "دورة جديدة",
        "track": "role",
        "modality": "blended",
        "duration_hours": "7.5",
        "cpd_credits": "1",
        "provider_kind": "internal",
        "provider_name": "",
        "cost_per_cohort": "100",
        "cost_per_participant": "10",
        "min_attendance_percent": "80",
        "pass_mark": "",
        "is_active": "on",
        "competencies-TOTAL_FORMS": "2",
        "competencies-INITIAL_FORMS": "0",
        "competencies-MIN_NUM_FORMS": "0",
        "competencies-MAX_NUM_FORMS": "60",
        "competencies-0-item": "",
        "competencies-0-level": "",
        "competencies-1-item": "",
        "competencies-1-level": "",
        "modules-TOTAL_FORMS": "2",
        "modules-INITIAL_FORMS": "0",
        "modules-MIN_NUM_FORMS": "0",
        "modules-MAX_NUM_FORMS": "60",
    }
    data.update(extra)
    return data


def test_create_course_with_competencies_and_modules(ministry, course, framework) -> None:
    assert client_for(ministry, "gov1").get("/training/courses/new/").status_code == 403
    client = client_for(ministry, "central")
    page = client.get("/training/courses/new/").content.decode()
    assert "D1.1 Competency 1.1" in page
    item = framework.items.get(code="D2.1")
    response = client.post(
        "/training/courses/new/",
        _form_data(
            target_roles=[Role.objects.get(code="teacher").pk],
            prerequisites=[course.pk],
            **{
                "competencies-0-item": str(item.pk),
                "competencies-0-level": "2",
                "modules-0-title_en": "Second part",
                "modules-0-ORDER": "2",
                "modules-1-title_en": "First part",
                "modules-1-title_fr": "Première partie",
                "modules-1-duration_hours": "3.5",
                "modules-1-ORDER": "1",
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    created = Course.objects.get(code="NEW-1")
    assert response["Location"] == "/training/courses/NEW-1/"
    assert created.title_ar == "دورة جديدة"
    assert created.duration_hours == Decimal("7.5")
    assert list(created.competencies.values_list("item__code", "level")) == [("D2.1", 2)]
    assert [(m.title_en, m.title_fr) for m in created.modules.all()] == [
        ("First part", "Première partie"),
        ("Second part", ""),
    ]
    assert list(created.prerequisites.values_list("code", flat=True)) == ["DQ-1"]


def test_course_form_shows_service_errors(ministry, course, framework) -> None:
    client = client_for(ministry, "central")
    item = framework.items.get(code="D1.1")
    html = client.post(
        "/training/courses/new/",
        _form_data(**{"competencies-0-item": str(item.pk), "competencies-0-level": "9"}),
    ).content.decode()
    assert "Select a valid choice" in html or "not on the scale" in html
    html = client.post(
        "/training/courses/new/",
        _form_data(**{"competencies-0-item": str(item.pk)}),
    ).content.decode()
    assert "Choose the level the course brings learners to." in html
    html = client.post(
        "/training/courses/new/", _form_data(code="DQ-1", **{"modules-0-title_fr": "x"})
    ).content.decode()
    assert "Give the module a title in English." in html
    # A prerequisite cycle is refused with the service's message.
    other = make_course("DQ-2")
    course.prerequisites.set([other])
    edit = client.post(
        "/training/courses/DQ-2/edit/", _form_data(code="DQ-2", prerequisites=[course.pk])
    )
    assert edit.status_code == 200
    assert "go round in a circle" in edit.content.decode()
    assert Course.objects.count() == 2


def test_edit_keeps_and_reorders_modules(ministry, course) -> None:
    client = client_for(ministry, "central")
    page = client.get("/training/courses/DQ-1/edit/").content.decode()
    assert 'value="Cleaning data"' in page
    module = course.modules.get()
    response = client.post(
        "/training/courses/DQ-1/edit/",
        _form_data(
            code="DQ-1",
            title_en="Cleaning EMIS data",
            programme="DQ",
            **{
                "modules-TOTAL_FORMS": "3",
                "modules-INITIAL_FORMS": "1",
                "modules-0-pk": str(module.pk),
                "modules-0-title_en": "Validation rules",
                "modules-0-ORDER": "2",
                "modules-1-title_en": "Introduction",
                "modules-1-ORDER": "1",
            },
        ),
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.title_en == "Cleaning EMIS data"
    assert course.programme.code == "DQ"
    assert [(m.pk == module.pk, m.title_en) for m in course.modules.all()] == [
        (False, "Introduction"),
        (True, "Validation rules"),
    ]
    assert course.competencies.count() == 0  # the posted form named none


def test_deactivate(ministry, course) -> None:
    assert client_for(ministry, "teacher").post("/training/courses/DQ-1/deactivate/").status_code
    course.refresh_from_db()
    assert course.is_active
    client = client_for(ministry, "central")
    assert client.get("/training/courses/DQ-1/deactivate/").status_code == 405
    client.post("/training/courses/DQ-1/deactivate/")
    course.refresh_from_db()
    assert not course.is_active
    assert client_for(ministry, "teacher").get("/training/courses/DQ-1/").status_code == 404


# --- materials ---------------------------------------------------------------------------


def test_materials(ministry, course, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    client = client_for(ministry, "central")
    pdf = SimpleUploadedFile("guide.pdf", b"%PDF-1.4 a guide", content_type="application/pdf")
    client.post("/training/courses/DQ-1/materials/", {"title": "Guide", "file": pdf})
    client.post(
        "/training/courses/DQ-1/materials/", {"title": "Site", "url": "https://example.org/x"}
    )
    bad = SimpleUploadedFile("evil.html", b"<script>", content_type="text/html")
    response = client.post("/training/courses/DQ-1/materials/", {"title": "Bad", "file": bad})
    assert response.status_code == 302
    follow = client.get(response["Location"]).content.decode()
    assert "Upload a PDF" in follow
    assert sorted(CourseMaterial.objects.values_list("title", flat=True)) == ["Guide", "Site"]
    guide = CourseMaterial.objects.get(title="Guide")
    teacher = client_for(ministry, "teacher")
    download = teacher.get(f"/training/courses/DQ-1/materials/{guide.pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == b"%PDF-1.4 a guide"
    assert teacher.post(f"/training/courses/DQ-1/materials/{guide.pk}/remove/").status_code == 403
    site = CourseMaterial.objects.get(title="Site")
    assert client.get(f"/training/courses/DQ-1/materials/{site.pk}/").status_code == 404
    client.post(f"/training/courses/DQ-1/materials/{guide.pk}/remove/")
    assert list(CourseMaterial.objects.values_list("title", flat=True)) == ["Site"]


# --- import and export -------------------------------------------------------------------


def _csv(*rows: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows([row.get(c, "") for c in COLUMNS] for row in rows)
    return out.getvalue().encode()


def test_import_preview_then_confirm(ministry, course, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    assert client_for(ministry, "dist").get("/training/catalogue/import/").status_code == 403
    client = client_for(ministry, "central")
    bad = _csv({"code": "A-1", "title_en": "A", "duration_hours": "x", "target_roles": "pilot"})
    html = client.post(
        "/training/catalogue/import/", {"file": SimpleUploadedFile("c.csv", bad)}
    ).content.decode()
    assert "problem stops this import" in html
    assert "duration_hours" in html
    good = _csv(
        {
            "code": "A-1",
            "title_en": "Alpha",
            "duration_hours": "2",
            "competencies": "EMIS-T:D1.1=2",
        },
        {"code": "DQ-1", "title_en": "Cleaning data, revised", "duration_hours": "12"},
    )
    response = client.post(
        "/training/catalogue/import/", {"file": SimpleUploadedFile("c.csv", good)}
    )
    html = response.content.decode()
    assert "Preview of c.csv" in html
    token = response.context["token"]
    assert not Course.objects.filter(code="A-1").exists()
    done = client.post("/training/catalogue/import/", {"token": token, "action": "confirm"})
    assert done.status_code == 302
    assert Course.objects.get(code="A-1").competencies.get().level == 2
    assert Course.objects.get(code="DQ-1").title_en == "Cleaning data, revised"
    # The token works once.
    again = client.post("/training/catalogue/import/", {"token": token, "action": "confirm"})
    assert again["Location"] == "/training/catalogue/import/"


def test_import_cancel(ministry, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    client = client_for(ministry, "central")
    good = _csv({"code": "A-1", "title_en": "Alpha", "duration_hours": "2"})
    token = client.post(
        "/training/catalogue/import/", {"file": SimpleUploadedFile("c.csv", good)}
    ).context["token"]
    client.post("/training/catalogue/import/", {"token": token, "action": "cancel"})
    assert not Course.objects.exists()


def test_export_csv_and_xlsx(ministry, course) -> None:
    make_course("OLD-1", is_active=False)
    teacher = client_for(ministry, "teacher")
    response = teacher.get("/training/catalogue/export/csv/")
    assert response["Content-Type"].startswith("text/csv")
    records = parse_csv(response.content).records
    assert [r.code for r in records] == ["DQ-1"]
    assert [str(c) for c in records[0].competencies] == ["EMIS-T@1.0:D1.1=3", "EMIS-T@1.0:D1.2=3"]
    central = client_for(ministry, "central")
    xlsx = central.get("/training/catalogue/export/xlsx/")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["code", "DQ-1", "OLD-1"]
    assert central.get("/training/catalogue/export/pdf/").status_code == 404


# --- programmes --------------------------------------------------------------------------


def test_programmes(ministry, course) -> None:
    html = client_for(ministry, "teacher").get("/training/catalogue/programmes/").content.decode()
    assert "Data quality" in html
    assert "1 course" in html
    assert (
        client_for(ministry, "teacher").get("/training/catalogue/programmes/new/").status_code
        == 403
    )
    client = client_for(ministry, "central")
    client.post(
        "/training/catalogue/programmes/new/",
        {"code": "LM", "title_en": "Leadership", "title_ar": "القيادة", "is_active": "on"},
    )
    assert Programme.objects.get(code="LM").title_ar == "القيادة"
    client.post(
        "/training/catalogue/programmes/LM/edit/",
        {"code": "LM", "title_en": "Leadership and management"},
    )
    programme = Programme.objects.get(code="LM")
    assert programme.title_en == "Leadership and management"
    assert not programme.is_active

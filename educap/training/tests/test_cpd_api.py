"""CPD over the API: scoped records with filters, submitting for oneself (multipart),
approve/reject, withdraw, evidence, requirements and a person's progress."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from educap.accounts.models import GrantKind
from educap.core.testing import MiniMinistry, make_user
from educap.training.models import CpdKind, CpdRecord, CpdRequirement, CpdStatus
from educap.training.tests.test_cpd_services import PDF, make_record, submit, upload

pytestmark = pytest.mark.django_db
RECORDS = "/api/v1/cpd-records/"
REQUIREMENTS = "/api/v1/cpd-requirements/"
THIS_YEAR = timezone.localdate().year


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def api_for(ministry: MiniMinistry):
    def _client(username: str | None) -> APIClient:
        client = APIClient()
        if username is not None:
            client.force_authenticate(ministry.users[username])
        return client

    return _client


def _titles(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["title"] for row in response.json()["results"]}


def test_records_are_scoped_and_filtered(ministry, api_for) -> None:
    p = ministry.people
    make_record(p["g1d1_teacher"], title="teacher 2025", completed_on=dt.date(2025, 4, 1))
    make_record(p["g1d1_teacher"], title="teacher pending", status=CpdStatus.PENDING)
    make_record(p["g1d1_head"], title="head")
    make_record(p["g2d1_teacher"], title="far away")
    assert _titles(api_for("teacher").get(RECORDS)) == {"teacher 2025", "teacher pending"}
    assert _titles(api_for("head").get(RECORDS)) == {"teacher 2025", "teacher pending", "head"}
    assert _titles(api_for("partner").get(RECORDS)) == set()
    central = api_for("central")
    assert len(_titles(central.get(RECORDS))) == 4
    teacher_id = p["g1d1_teacher"].pk
    assert _titles(central.get(RECORDS, {"person": teacher_id, "year": 2025})) == {"teacher 2025"}
    assert _titles(central.get(RECORDS, {"status": "pending"})) == {"teacher pending"}
    assert central.get(RECORDS, {"status": "nonsense"}).status_code == 400
    assert api_for(None).get(RECORDS).status_code in (401, 403)


def test_list_query_count_does_not_grow(ministry, api_for, django_assert_max_num_queries):
    teacher = ministry.people["g1d1_teacher"]
    for n in range(3):
        make_record(teacher, title=f"r{n}")
    client = api_for("central")
    with django_assert_max_num_queries(6) as small:
        client.get(RECORDS)
    for n in range(3, 30):
        make_record(teacher, title=f"r{n}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(RECORDS)


def test_submit_for_oneself_multipart(ministry, api_for) -> None:
    client = api_for("teacher")
    response = client.post(
        RECORDS,
        {
            "kind": CpdKind.CONFERENCE,
            "title": "Regional EMIS conference",
            "provider": "UNESCO",
            "completed_on": timezone.localdate().isoformat(),
            "hours": "16",
            "evidence": upload(),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["person"] == ministry.people["g1d1_teacher"].pk
    assert body["status"] == "pending"
    assert body["internal"] is False
    assert body["evidence_url"].endswith(f"/api/v1/cpd-records/{body['id']}/evidence/")
    assert "/media/" not in response.content.decode()
    evidence = client.get(body["evidence_url"])
    assert evidence.status_code == 200
    assert b"".join(evidence.streaming_content) == PDF


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"completed_on": "2999-01-01"}, "cpd_date_in_future", "completed_on"),
        ({"hours": "0"}, "cpd_no_hours_or_credits", "hours"),
        ({"hours": "5000"}, "cpd_hours_out_of_range", "hours"),
        ({"evidence": None}, "cpd_evidence_required", "evidence"),
        ({"kind": "internal"}, "invalid_choice", "kind"),
    ],
)
def test_submit_errors_have_codes(ministry, api_for, changes, code, field) -> None:
    data = {
        "kind": CpdKind.COURSE,
        "title": "Course",
        "completed_on": timezone.localdate().isoformat(),
        "hours": "6",
        "evidence": upload(),
    }
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    response = api_for("teacher").post(RECORDS, data, format="multipart")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == (code, field)


def test_bad_uploads_are_refused(ministry, api_for, settings) -> None:
    client = api_for("teacher")
    data = {"kind": "course", "title": "T", "completed_on": "2025-01-01", "hours": "2"}
    fake = client.post(
        RECORDS, {**data, "evidence": upload(b"%PDF-1.7 not really", "x.pdf")}, format="multipart"
    )
    assert fake.json()["code"] == "cpd_evidence_type"
    settings.EDUCAP_MAX_UPLOAD_MB = 1
    big = upload(PDF[:-6] + b"0" * (1024 * 1024) + b"%%EOF\n")
    assert (
        client.post(RECORDS, {**data, "evidence": big}, format="multipart").json()["code"]
        == "file_too_large"
    )
    assert not CpdRecord.objects.exists()


def test_no_staff_record_no_submission(ministry, api_for) -> None:
    response = api_for("partner").post(
        RECORDS,
        {"kind": "course", "title": "T", "completed_on": "2025-01-01", "hours": "2",
         "evidence": upload()},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 403
    assert response.json()["code"] == "cpd_no_staff_record"


def test_approve_reject_and_who_may(ministry, api_for) -> None:
    first = submit(ministry.users["teacher"], title="First")
    second = submit(ministry.users["teacher"], title="Second")
    own = api_for("teacher").post(f"{RECORDS}{first.pk}/approve/", {})
    assert (own.status_code, own.json()["code"]) == (403, "cpd_own_record")
    stranger = make_user("g2head", ministry.people["g2d1_head"], [(GrantKind.SUPERVISOR, None)])
    client = APIClient()
    client.force_authenticate(stranger)
    assert client.post(f"{RECORDS}{first.pk}/approve/", {}).status_code == 404
    head = api_for("head")
    approved = head.post(f"{RECORDS}{first.pk}/approve/", {"note": "Well done"})
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == "head"
    again = head.post(f"{RECORDS}{first.pk}/reject/", {"note": "x"})
    assert again.json()["code"] == "cpd_not_pending"
    no_note = api_for("dist").post(f"{RECORDS}{second.pk}/reject/", {})
    assert (no_note.status_code, no_note.json()["code"]) == (400, "cpd_note_required")
    rejected = api_for("dist").post(f"{RECORDS}{second.pk}/reject/", {"note": "No dates"})
    assert rejected.json()["status"] == "rejected"


def test_withdraw(ministry, api_for) -> None:
    record = submit(ministry.users["teacher"])
    assert api_for("head").delete(f"{RECORDS}{record.pk}/").json()["code"] == "cpd_not_yours"
    assert api_for("teacher").delete(f"{RECORDS}{record.pk}/").status_code == 204
    assert not CpdRecord.objects.exists()


def test_evidence_access(ministry, api_for) -> None:
    record = submit(ministry.users["teacher"])
    url = f"{RECORDS}{record.pk}/evidence/"
    for username in ("teacher", "head", "dist", "central"):
        assert api_for(username).get(url).status_code == 200
    for username in ("partner", "trainer"):
        assert api_for(username).get(url).status_code == 404
    bare = make_record(ministry.people["g1d1_teacher"], title="No file")
    assert api_for("teacher").get(f"{RECORDS}{bare.pk}/evidence/").status_code == 404


def test_requirements(ministry, api_for) -> None:
    central = api_for("central")
    created = central.post(REQUIREMENTS, {"role": "teacher", "year": 2026, "hours": "20"})
    assert created.status_code == 201, created.content
    assert created.json()["role"] == "teacher"
    replaced = central.post(
        REQUIREMENTS, {"role": "teacher", "year": 2026, "credits": "2"}, format="json"
    )
    assert replaced.status_code == 200
    assert (replaced.json()["hours"], replaced.json()["credits"]) == (None, "2.0")
    pk = created.json()["id"]
    changed = central.patch(f"{REQUIREMENTS}{pk}/", {"hours": "12.5"}, format="json")
    assert changed.json()["hours"] == "12.5"
    empty = central.post(REQUIREMENTS, {"role": "teacher", "year": 2026}, format="json")
    assert empty.json()["code"] == "cpd_requirement_empty"
    listed = api_for("teacher").get(REQUIREMENTS, {"year": 2026, "role": "teacher"})
    assert [r["id"] for r in listed.json()["results"]] == [pk]
    refused = api_for("gov1").post(REQUIREMENTS, {"role": "teacher", "year": 2027, "hours": 5})
    assert (refused.status_code, refused.json()["code"]) == (403, "cpd_not_allowed")
    assert api_for("gov1").delete(f"{REQUIREMENTS}{pk}/").status_code == 403
    assert central.delete(f"{REQUIREMENTS}{pk}/").status_code == 204
    assert not CpdRequirement.objects.exists()


def test_progress(ministry, api_for) -> None:
    teacher = ministry.people["g1d1_teacher"]
    CpdRequirement.objects.create(role=teacher.role, year=2025, hours=20, credits=1)
    make_record(teacher, completed_on=dt.date(2025, 3, 1), hours=Decimal(8), credits=1)
    make_record(teacher, completed_on=dt.date(2025, 3, 2), hours=3, status=CpdStatus.PENDING)
    url = f"/api/v1/people/{teacher.pk}/cpd-progress/"
    body = api_for("head").get(url, {"year": 2025}).json()
    assert body["year"] == 2025
    assert body["requirement"]["hours"] == "20.0"
    assert body["approved"] == {"hours": "8.0", "credits": "1.0", "records": 1}
    assert body["pending"]["hours"] == "3.0"
    assert body["compliant"] is False
    assert [(m["measure"], m["met"]) for m in body["meters"]] == [
        ("hours", False),
        ("credits", True),
    ]
    this_year = api_for("teacher").get(url).json()
    assert (this_year["year"], this_year["requirement"], this_year["compliant"]) == (
        THIS_YEAR,
        None,
        None,
    )
    assert api_for("teacher").get(url, {"year": "abc"}).json()["code"] == "invalid"
    assert api_for("partner").get(url).status_code == 404
    # The people API's own routes are untouched.
    assert api_for("head").get(f"/api/v1/people/{teacher.pk}/").status_code == 200


def test_schema_documents_the_cpd_api(ministry, api_for) -> None:
    response = api_for("admin").get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/cpd-records/",
        "/api/v1/cpd-records/{id}/approve/",
        "/api/v1/cpd-records/{id}/reject/",
        "/api/v1/cpd-records/{id}/evidence/",
        "/api/v1/cpd-requirements/",
        "/api/v1/people/{id}/cpd-progress/",
    ):
        assert path in paths, path
    create = paths["/api/v1/cpd-records/"]["post"]
    assert "multipart/form-data" in create["requestBody"]["content"]

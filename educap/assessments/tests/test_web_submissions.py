"""Offline submissions on the web: XLSForm download, upload → preview → confirm."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from openpyxl import load_workbook

from educap.assessments.models import Rating, Submission
from educap.assessments.tests.test_io_xlsform import launched
from educap.assessments.tests.test_submissions import central_header, central_row
from educap.core.testing import MiniMinistry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path):
        yield


def client_for(ministry: MiniMinistry, username: str) -> Client:
    client = Client()
    client.force_login(ministry.users[username])
    return client


def csv_upload(rows: list[dict], name: str = "central.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, central_header())
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def test_only_managers_reach_the_pages(ministry):
    campaign = launched(ministry)
    for name in ("assessments:submissions_upload", "assessments:xlsform"):
        url = reverse(name, args=[campaign.code])
        assert client_for(ministry, "head").get(url).status_code == 403
        assert client_for(ministry, "dist").get(url).status_code == 403
    assert (
        client_for(ministry, "central")
        .get(reverse("assessments:submissions_upload", args=[campaign.code]))
        .status_code
        == 200
    )


def test_xlsform_download_limited_to_a_unit(ministry):
    campaign = launched(ministry)
    url = reverse("assessments:xlsform", args=[campaign.code])
    response = client_for(ministry, "admin").get(url, {"unit": "G2"})
    assert response.status_code == 200
    assert 'filename="CAMP-1-G2.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    persons = {r[1] for r in book["choices"].iter_rows(2, values_only=True) if r[0] == "persons"}
    assert persons == {
        ministry.people["g2d1_head"].staff_number,
        ministry.people["g2d1_teacher"].staff_number,
    }
    assert client_for(ministry, "admin").get(url, {"unit": "NOPE"}).status_code == 404


def test_upload_preview_then_confirm(ministry):
    campaign = launched(ministry)
    client = client_for(ministry, "central")
    url = reverse("assessments:submissions_upload", args=[campaign.code])
    rows = [central_row(ministry.people["g1d1_teacher"], levels={"D1.1": 3})]
    response = client.post(url, {"file": csv_upload(rows)})
    assert response.status_code == 200
    assert response.context["result"].new == 1
    token = response.context["token"]
    assert token
    assert Submission.objects.count() == 0  # preview writes nothing
    response = client.post(url, {"token": token, "action": "confirm"}, follow=True)
    assert Rating.objects.get().value == 3
    assert "1 new submissions" in response.content.decode()
    # the same token cannot apply twice
    client.post(url, {"token": token, "action": "confirm"})
    assert Submission.objects.count() == 1


def test_preview_with_errors_offers_valid_rows_and_report(ministry):
    campaign = launched(ministry)
    client = client_for(ministry, "central")
    url = reverse("assessments:submissions_upload", args=[campaign.code])
    rows = [
        central_row(ministry.people["g1d1_teacher"]),
        {**central_row(ministry.people["g1d1_head"]), "person": "NOBODY"},
    ]
    response = client.post(url, {"file": csv_upload(rows)})
    page = response.content.decode()
    assert "No person has staff number NOBODY." in page
    assert 'value="valid_only"' in page
    token = response.context["token"]

    report = client.post(url, {"token": token, "action": "report"})
    assert report["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(report.content.decode())))
    assert lines[1][:3] == ["3", rows[1]["KEY"], "person"]
    assert Submission.objects.count() == 0

    client.post(url, {"token": token, "action": "valid_only"})
    assert Submission.objects.count() == 1


def test_file_problems_give_no_import_button(ministry):
    campaign = launched(ministry)
    client = client_for(ministry, "central")
    url = reverse("assessments:submissions_upload", args=[campaign.code])
    upload = SimpleUploadedFile("x.csv", b"a,b\n1,2\n", content_type="text/csv")
    response = client.post(url, {"file": upload})
    assert response.context["token"] == ""
    assert "SubmissionDate" in response.content.decode()

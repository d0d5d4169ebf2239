"""Staff upload page (preview, confirm) and staff download."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from educap.audit.models import AuditAction, AuditEvent
from educap.core.testing import MiniMinistry, make_person
from educap.people.io.staff import parse_csv, parse_xlsx, write_xlsx
from educap.people.models import Person

pytestmark = pytest.mark.django_db

URL = "/people/import/"
GOOD = (
    "staff_number,given_name,family_name,sex,unit_code,role_code\n"
    "W1,Amal,Haddad,F,G1D1S1,teacher\n"
    "W2,عمر,Nasser,M,G1D1,emis_officer\n"
)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def login(client: Client, ministry: MiniMinistry, name: str) -> Client:
    client.force_login(ministry.users[name])
    return client


def upload(client: Client, text: str = GOOD, name: str = "staff.csv") -> Any:
    return client.post(URL, {"file": SimpleUploadedFile(name, text.encode())})


def token_of(response: Any) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "no confirm form in the preview"
    return match.group(1)


def uploads(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "imports"
    return list(folder.iterdir()) if folder.exists() else []


def test_urls_are_named() -> None:
    assert reverse("people:import") == URL
    assert reverse("people:export") == "/people/export/"


@pytest.mark.parametrize("name", ["teacher", "head", "trainer", "partner"])
def test_only_managers_may_import(client: Client, ministry: MiniMinistry, name: str) -> None:
    login(client, ministry, name)
    assert client.get(URL).status_code == 403
    assert upload(client).status_code == 403
    assert not Person.objects.filter(staff_number="W1").exists()


def test_upload_page_explains_the_columns(client: Client, ministry: MiniMinistry) -> None:
    response = login(client, ministry, "dist").get(URL)
    assert response.status_code == 200
    assert b"supervisor_staff_number" in response.content
    assert b'enctype="multipart/form-data"' in response.content


def test_preview_then_confirm(client: Client, ministry: MiniMinistry, tmp_path: Path) -> None:
    login(client, ministry, "dist")
    preview = upload(client)
    assert preview.status_code == 200
    assert "عمر".encode() in preview.content
    assert b"W1" in preview.content
    assert not Person.objects.filter(staff_number__in=["W1", "W2"]).exists()
    assert len(uploads(tmp_path)) == 1

    response = client.post(URL, {"token": token_of(preview), "confirm": "1"})
    assert response.status_code == 302
    assert response.url == reverse("people:list")
    assert Person.objects.filter(staff_number__in=["W1", "W2"]).count() == 2
    assert uploads(tmp_path) == []
    event = AuditEvent.objects.get(action=AuditAction.IMPORT)
    assert (event.actor, event.after["created"]) == (ministry.users["dist"], 2)

    # The same token cannot be used twice: its file is gone.
    again = client.post(URL, {"token": token_of(preview), "confirm": "1"}, follow=True)
    assert b"expired" in again.content
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT).count() == 1


def test_problems_are_listed_and_cannot_be_confirmed(
    client: Client, ministry: MiniMinistry, tmp_path: Path
) -> None:
    login(client, ministry, "dist")
    response = upload(client, GOOD + "W3,Lina,Saleh,F,G2D1S1,teacher\n")
    content = response.content.decode()
    assert response.status_code == 200
    assert 'name="token"' not in content
    assert "<td>4</td><td><code>unit_code</code></td>" in content
    assert "You may not register staff in unit G2D1S1." in content
    assert uploads(tmp_path) == []
    assert not Person.objects.filter(staff_number="W1").exists()


def test_cancel_removes_the_upload(client: Client, ministry: MiniMinistry, tmp_path: Path) -> None:
    login(client, ministry, "gov1")
    preview = upload(client)
    response = client.post(URL, {"token": token_of(preview), "cancel": "1"})
    assert response.status_code == 302
    assert uploads(tmp_path) == []
    assert not Person.objects.filter(staff_number="W1").exists()


def test_a_token_works_only_for_its_uploader(client: Client, ministry: MiniMinistry) -> None:
    token = token_of(upload(login(client, ministry, "gov1")))
    login(client, ministry, "dist")
    assert client.post(URL, {"token": token, "confirm": "1"}).status_code == 403
    response = client.post(URL, {"token": token[:-2] + "xx", "confirm": "1"}, follow=True)
    assert b"expired" in response.content
    assert not Person.objects.filter(staff_number="W1").exists()


def test_changes_since_the_preview_need_a_new_confirmation(
    client: Client, ministry: MiniMinistry
) -> None:
    login(client, ministry, "admin")
    preview = upload(client)
    make_person(ministry.units["G1D1S1"], staff_number="W1")
    response = client.post(URL, {"token": token_of(preview), "confirm": "1"})
    assert response.status_code == 200
    assert b"changed since the preview" in response.content
    assert not Person.objects.filter(staff_number="W2").exists()
    client.post(URL, {"token": token_of(response), "confirm": "1"})
    assert Person.objects.filter(staff_number="W2").exists()


def test_xlsx_upload(client: Client, ministry: MiniMinistry) -> None:
    out = io.BytesIO()
    write_xlsx(parse_csv(GOOD.encode()).records, out)
    login(client, ministry, "dist")
    preview = client.post(URL, {"file": SimpleUploadedFile("staff.xlsx", out.getvalue())})
    client.post(URL, {"token": token_of(preview), "confirm": "1"})
    assert Person.objects.filter(staff_number__in=["W1", "W2"]).count() == 2


def test_oversized_and_wrongly_named_files_are_refused(
    client: Client, ministry: MiniMinistry, settings: Any
) -> None:
    login(client, ministry, "admin")
    response = upload(client, name="staff.txt")
    assert response.status_code == 400
    assert b".csv or an .xlsx" in response.content
    settings.EDUCAP_MAX_UPLOAD_MB = 0
    response = upload(client)
    assert response.status_code == 400
    assert b"larger than 0 MB" in response.content


def _exported(response: Any) -> list[str]:
    body = b"".join(response.streaming_content)
    parsed = parse_csv(body)
    assert parsed.problems == []
    return sorted(r.staff_number for r in parsed.records)


def test_export_contains_only_what_the_user_may_see(client: Client, ministry: MiniMinistry) -> None:
    people = ministry.people
    response = login(client, ministry, "dist").get("/people/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert _exported(response) == sorted(
        people[k].staff_number for k in ("g1d1_officer", "g1d1_head", "g1d1_teacher")
    )
    response = login(client, ministry, "teacher").get("/people/export/")
    assert _exported(response) == [people["g1d1_teacher"].staff_number]
    response = login(client, ministry, "partner").get("/people/export/")
    assert _exported(response) == []


def test_export_follows_the_list_filters(client: Client, ministry: MiniMinistry) -> None:
    people = ministry.people
    login(client, ministry, "gov1")
    response = client.get("/people/export/", {"unit": "G1D2", "role": "teacher"})
    assert _exported(response) == [people["g1d2_teacher"].staff_number]
    response = client.get("/people/export/", {"sex": "M"})
    assert _exported(response) == sorted(
        people[k].staff_number for k in ("g1d1_officer", "g1d1_teacher")
    )
    Person.objects.filter(pk=people["g1d2_teacher"].pk).update(is_active=False)
    assert people["g1d2_teacher"].staff_number not in _exported(client.get("/people/export/"))
    everyone = _exported(client.get("/people/export/", {"active": ""}))
    assert people["g1d2_teacher"].staff_number in everyone


def test_export_as_xlsx_defuses_formulas(client: Client, ministry: MiniMinistry) -> None:
    teacher = ministry.people["g1d1_teacher"]
    Person.objects.filter(pk=teacher.pk).update(given_name='=HYPERLINK("http://x","y")')
    response = login(client, ministry, "dist").get("/people/export/", {"format": "xlsx"})
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert '\'=HYPERLINK("http://x","y")' in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    records = parse_xlsx(data).records
    assert {r.given_name for r in records} >= {'=HYPERLINK("http://x","y")'}

"""The upload -> preview -> confirm page for org-unit imports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from educap.audit.models import AuditAction, AuditEvent
from educap.core.testing import MiniMinistry
from educap.org.models import OrgUnit

pytestmark = pytest.mark.django_db

URL = reverse("org:import")
DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client: Client, content: bytes, fmt: str = "csv", name: str = "units.csv"):
    return client.post(
        URL,
        {"action": "preview", "format": fmt, "file": SimpleUploadedFile(name, content)},
    )


def token_of(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "no confirm form"
    return match.group(1)


def stored_uploads(settings) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    return list(folder.iterdir()) if folder.exists() else []


NEW_UNITS = (
    "code,name,level,parent_code,name_ar\n"
    "N1,New district,district,G1,مديرية جديدة\n"
    "N1S1,New school,school,N1,\n"
    "G1D1,District G1D1,district,G2,\n"
).encode()


def test_preview_then_confirm(ministry: MiniMinistry, client: Client, settings) -> None:
    client.force_login(ministry.users["admin"])
    assert client.get(URL).status_code == 200
    count = OrgUnit.objects.count()

    response = upload(client, NEW_UNITS)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'dir="auto">New district<' in page
    assert "مديرية جديدة" in page
    assert response.context["counts"] == {"created": 2, "updated": 0, "moved": 1, "unchanged": 0}
    assert OrgUnit.objects.count() == count  # a preview writes nothing
    assert len(stored_uploads(settings)) == 1

    response = client.post(URL, {"action": "confirm", "token": token_of(response)})

    assert response.status_code == 302
    assert response.url == reverse("org:tree")
    assert OrgUnit.objects.count() == count + 2
    assert OrgUnit.objects.get(code="N1S1").path.startswith(ministry.units["G1"].path)
    assert OrgUnit.objects.get(code="G1D1S1").path.startswith(ministry.units["G2"].path)
    event = AuditEvent.objects.get(action=AuditAction.IMPORT)
    assert event.actor == ministry.users["admin"]
    assert stored_uploads(settings) == []


def test_problems_are_listed_and_cannot_be_confirmed(
    ministry: MiniMinistry, client: Client, settings
) -> None:
    client.force_login(ministry.users["central"])
    response = upload(
        client, b"code,name,level,parent_code\nN1,New,district,NOPE\nN2,,district,G1\n"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 problems stop this import" in page
    assert "<td>2</td><td><code>parent_code</code></td>" in page
    assert "<td>3</td><td><code>name</code></td>" in page
    assert 'name="token"' not in page
    assert stored_uploads(settings) == []


def test_dhis2_upload(ministry: MiniMinistry, client: Client) -> None:
    client.force_login(ministry.users["admin"])
    response = upload(
        client, (DATA / "dhis2_orgunits.json").read_bytes(), fmt="dhis2", name="ou.json"
    )
    assert response.context["counts"]["created"] == 3  # MOE exists already
    client.post(URL, {"action": "confirm", "token": token_of(response)})
    assert OrgUnit.objects.get(external_id="Sch0000001a").depth == 3


def test_district_manager_gets_403(ministry: MiniMinistry, client: Client) -> None:
    for user in ("dist", "gov1", "teacher", "partner"):
        client.force_login(ministry.users[user])
        assert client.get(URL).status_code == 403
        assert upload(client, NEW_UNITS).status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert "login" in response.url


def test_upload_size_is_limited(ministry: MiniMinistry, client: Client, settings) -> None:
    settings.EDUCAP_MAX_UPLOAD_MB = 0
    client.force_login(ministry.users["admin"])
    response = upload(client, NEW_UNITS)
    assert response.status_code == 200
    assert "larger than the 0 MB limit" in response.content.decode()
    assert stored_uploads(settings) == []


def test_tampered_or_foreign_tokens_are_refused(
    ministry: MiniMinistry, client: Client, settings
) -> None:
    client.force_login(ministry.users["admin"])
    token = token_of(upload(client, NEW_UNITS))
    count = OrgUnit.objects.count()

    response = client.post(URL, {"action": "confirm", "token": token[:-2] + "xx"}, follow=True)
    assert "no longer valid" in response.content.decode()

    client.force_login(ministry.users["central"])  # allowed to import, but not this upload
    response = client.post(URL, {"action": "confirm", "token": token}, follow=True)
    assert "no longer valid" in response.content.decode()

    stored_uploads(settings)[0].write_bytes(b"code,name,level,parent_code\nX,X,district,G1\n")
    client.force_login(ministry.users["admin"])
    response = client.post(URL, {"action": "confirm", "token": token}, follow=True)
    assert "no longer valid" in response.content.decode()
    assert OrgUnit.objects.count() == count


def test_cancel_removes_the_upload(ministry: MiniMinistry, client: Client, settings) -> None:
    client.force_login(ministry.users["admin"])
    token = token_of(upload(client, NEW_UNITS))
    response = client.post(URL, {"action": "cancel", "token": token})
    assert response.status_code == 302
    assert stored_uploads(settings) == []
    assert not OrgUnit.objects.filter(code="N1").exists()


def test_changes_after_the_preview_need_a_new_preview(
    ministry: MiniMinistry, client: Client
) -> None:
    client.force_login(ministry.users["admin"])
    token = token_of(upload(client, NEW_UNITS))
    # Someone moves G1D1 meanwhile: the file now changes one unit less.
    OrgUnit.objects.filter(code="G1D1").update(
        parent=ministry.units["G2"],
        path=ministry.units["G2"].path + str(ministry.units["G1D1"].pk) + "/",
    )
    OrgUnit.objects.filter(code="G1D1S1").update(
        path=ministry.units["G2"].path
        + f"{ministry.units['G1D1'].pk}/{ministry.units['G1D1S1'].pk}/"
    )

    response = client.post(URL, {"action": "confirm", "token": token})

    assert response.status_code == 200
    assert "changed since the preview" in response.content.decode()
    assert response.context["counts"] == {"created": 2, "updated": 0, "moved": 0, "unchanged": 1}
    assert not OrgUnit.objects.filter(code="N1").exists()
    client.post(URL, {"action": "confirm", "token": token_of(response)})
    assert OrgUnit.objects.filter(code="N1").exists()


@pytest.mark.parametrize("size", [10, 600])
def test_preview_query_count_does_not_grow_with_the_file(
    ministry: MiniMinistry, client: Client, django_assert_max_num_queries, size: int
) -> None:
    # Session, user, grants, roots of the hierarchy (view and menu), levels, units: 7,
    # whatever the size.
    client.force_login(ministry.users["central"])
    rows = [f"N{i},New district {i},district,G1" for i in range(size // 2)]
    rows += [f"N{i}S,New school {i},school,N{i}" for i in range(size // 2)]
    rows.append("G1D1,Moved district,district,G2")
    content = ("code,name,level,parent_code\n" + "\n".join(rows)).encode()
    with django_assert_max_num_queries(7):
        response = upload(client, content)
    assert response.context["counts"]["created"] == size
    assert len(response.context["changes"]) == min(200, size + 1)

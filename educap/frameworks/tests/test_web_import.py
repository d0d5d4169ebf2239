from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from educap.core.testing import MiniMinistry
from educap.frameworks.models import Framework

DATA = Path(__file__).parent / "data"


def _client(ministry: MiniMinistry, username: str) -> Client:
    client = Client()
    client.force_login(ministry.users[username])
    return client


def _upload(client: Client, name: str, fmt: str) -> str:
    content = (DATA / name).read_bytes()
    response = client.post(
        reverse("frameworks:import"),
        {"file": SimpleUploadedFile(name, content), "format": fmt},
    )
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_moodle_file_preview_then_confirm(ministry: MiniMinistry, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    client = _client(ministry, "central")
    html = _upload(client, "moodle_emis_export.csv", "moodle")
    assert Framework.objects.count() == 0  # the preview writes nothing
    assert 'name="token"' in html
    token = html.split('name="token" value="')[1].split('"')[0]
    response = client.post(reverse("frameworks:import"), {"token": token, "action": "confirm"})
    framework = Framework.objects.get()
    assert response["Location"] == reverse("frameworks:detail", args=[framework.pk])
    assert framework.items.count() > 0
    # The token was used: a second confirmation finds nothing.
    again = client.post(reverse("frameworks:import"), {"token": token, "action": "confirm"})
    assert again.status_code == 302
    assert Framework.objects.count() == 1


@pytest.mark.django_db
def test_bad_file_lists_problems_and_stores_nothing(ministry: MiniMinistry) -> None:
    client = _client(ministry, "central")
    response = client.post(
        reverse("frameworks:import"),
        {"file": SimpleUploadedFile("broken.json", b"{not json"), "format": "case"},
    )
    html = response.content.decode()
    assert "stops this import" in html or "stop this import" in html
    assert Framework.objects.count() == 0


@pytest.mark.django_db
def test_forged_token_is_refused(ministry: MiniMinistry) -> None:
    client = _client(ministry, "central")
    response = client.post(reverse("frameworks:import"), {"token": "x:y:z", "action": "confirm"})
    assert response.status_code == 302
    assert Framework.objects.count() == 0


@pytest.mark.django_db
def test_import_page_is_for_authors_only(ministry: MiniMinistry) -> None:
    assert _client(ministry, "gov1").get(reverse("frameworks:import")).status_code == 403


@pytest.mark.django_db
def test_blank_template_downloads(ministry: MiniMinistry) -> None:
    response = _client(ministry, "teacher").get(reverse("frameworks:template"))
    assert response.status_code == 200
    assert response.content[:2] == b"PK"


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["case", "moodle", "xlsx"])
def test_export_downloads_then_reimports_unchanged(ministry: MiniMinistry, fmt: str) -> None:
    from educap.frameworks.importing import framework_import_plan
    from educap.frameworks.io import case, moodle_csv, xlsx
    from educap.frameworks.models import FrameworkStatus
    from educap.frameworks.tests.factories import make_framework

    framework = make_framework(status=FrameworkStatus.PUBLISHED)
    response = _client(ministry, "teacher").get(
        reverse("frameworks:export", args=[framework.pk, fmt])
    )
    assert response.status_code == 200
    assert framework.code in response["Content-Disposition"]
    module = {"case": case, "moodle": moodle_csv, "xlsx": xlsx}[fmt]
    parsed = module.parse(response.content)
    assert parsed.record is not None, parsed.problems
    assert len(parsed.record.items) == framework.items.count()
    if fmt != "moodle":  # Moodle cannot carry the other languages and the indicators
        plan = framework_import_plan(actor=None, record=parsed.record)
        assert not plan.problems
        assert plan.counts.get("items_unchanged") == framework.items.count()


@pytest.mark.django_db
def test_drafts_are_not_exported_to_readers(ministry: MiniMinistry) -> None:
    from educap.frameworks.tests.factories import make_framework

    framework = make_framework()
    url = reverse("frameworks:export", args=[framework.pk, "case"])
    assert _client(ministry, "teacher").get(url).status_code == 404

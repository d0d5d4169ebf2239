"""The Open Badges 3.0 credential of a certificate: its shape, its alignment to the course's
competencies (CASE identifiers for a framework imported from CASE), and its status."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from educap.assessments.tests.factories import make_published_framework
from educap.core.testing import MiniMinistry
from educap.frameworks.importing import framework_import_apply, framework_import_plan
from educap.frameworks.io import case
from educap.frameworks.models import Framework, FrameworkItem, FrameworkStatus
from educap.training import signing
from educap.training.credentials import (
    credential_for,
    credential_from_payload,
    credential_jwt,
    hours_text,
)
from educap.training.models import Course, CourseCompetency
from educap.training.services.certificates import certificate_revoke
from educap.training.tests.test_certificates_services import issue_certificate

pytestmark = pytest.mark.django_db

BASE = "https://educap.example.org"
NATIONAL = (
    Path(__file__).resolve().parents[2]
    / "frameworks"
    / "tests"
    / "data"
    / "case_national_emis_standards.json"
)


def _case_framework() -> Framework:
    """The fictional national CASE package, imported and published."""
    record = case.parse(NATIONAL.read_bytes()).record
    assert record is not None
    plan = framework_import_plan(actor=None, record=record, code="EMIS-STD")
    assert plan.problems == []
    framework = framework_import_apply(actor=None, plan=plan)
    Framework.objects.filter(pk=framework.pk).update(
        status=FrameworkStatus.PUBLISHED, published_at=timezone.now()
    )
    framework.refresh_from_db()
    return framework


def test_credential_shape(ministry: MiniMinistry) -> None:
    certificate = issue_certificate(ministry, framework=make_published_framework())
    credential = credential_for(certificate, base=BASE)
    assert credential["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"] == f"urn:uuid:{certificate.pk}"
    assert credential["issuer"] == {
        "id": f"{BASE}/",
        "type": ["Profile"],
        "name": certificate.issuer_name,
        "url": f"{BASE}/",
    }
    assert credential["validFrom"].endswith("Z")
    assert "." not in credential["validFrom"]
    assert credential["name"] == certificate.course_title
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["id"].startswith("urn:uuid:")
    assert subject["identifier"] == [
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": certificate.holder_name,
        }
    ]
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["name"] == certificate.course_title
    assert achievement["description"]
    assert "12-hour" in achievement["criteria"]["narrative"]
    assert achievement["humanCode"] == "C-DQ1"
    assert credential["credentialStatus"] == {
        "id": f"{BASE}/verify/{certificate.pk}/status.json",
        "type": "1EdTechRevocationList",
    }
    assert credential["credentialSchema"][0]["type"] == "1EdTechJsonSchemaValidator2019"


def test_jwt_claims_mirror_the_credential(ministry: MiniMinistry) -> None:
    certificate = issue_certificate(ministry)
    payload = signing.verify_jwt(credential_jwt(certificate, base=BASE), signing.jwks())
    credential = credential_from_payload(payload)
    assert credential == credential_for(certificate, base=BASE)
    assert payload["iss"] == credential["issuer"]["id"]
    assert payload["jti"] == credential["id"]
    assert payload["sub"] == credential["credentialSubject"]["id"]
    valid_from = dt.datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
    assert payload["nbf"] == int(valid_from.timestamp())
    assert "exp" not in payload


def test_alignment_uses_case_identifiers_of_an_imported_framework(
    ministry: MiniMinistry,
) -> None:
    framework = _case_framework()
    course = Course.objects.create(code="C-CASE", title="Data quality", duration_hours=6)
    items = list(FrameworkItem.objects.filter(framework=framework, parent__isnull=False)[:2])
    for item in items:
        CourseCompetency.objects.create(course=course, item=item, level=2)
    certificate = issue_certificate(ministry, course_code="C-CASE")
    alignment = credential_for(certificate, base=BASE)["credentialSubject"]["achievement"][
        "alignment"
    ]
    source_ids = {i["identifier"] for i in json.loads(NATIONAL.read_bytes())["CFItems"]}
    assert len(alignment) == 2
    for row, item in zip(alignment, items, strict=True):
        assert row["type"] == ["Alignment"]
        assert row["targetType"] == "CFItem"
        assert row["targetCode"] == item.identifier
        assert row["targetCode"] in source_ids  # the identifier of the source CASE package
        assert row["targetUrl"] == f"{BASE}/ims/case/v1p1/CFItems/{item.identifier}"
        assert row["targetName"] == item.statement
        assert row["targetFramework"] == f"{framework.title} {framework.version}"


def test_alignment_to_an_unpublished_framework_is_not_called_case(
    ministry: MiniMinistry,
) -> None:
    framework = make_published_framework()
    Framework.objects.filter(pk=framework.pk).update(
        status=FrameworkStatus.DRAFT, published_at=None
    )
    certificate = issue_certificate(ministry, framework=framework)
    alignment = credential_for(certificate, base=BASE)["credentialSubject"]["achievement"][
        "alignment"
    ]
    assert [(a["targetType"], a["targetCode"]) for a in alignment] == [
        ("ext:EduCapCompetency", "D1.1"),
        ("ext:EduCapCompetency", "D1.2"),
    ]


def test_status_list_shows_revocation(client: Client, ministry: MiniMinistry) -> None:
    certificate = issue_certificate(ministry)
    url = f"/verify/{certificate.pk}/status.json"
    before = client.get(url)
    assert before.status_code == 200
    assert before["Access-Control-Allow-Origin"] == "*"
    body: dict[str, Any] = before.json()
    assert body["id"] == f"http://testserver{url}"
    assert body["issuer"] == "http://testserver/"
    assert body["revokedCredentials"] == []

    certificate_revoke(actor=ministry.users["central"], certificate=certificate, reason="Forged")
    after = client.get(url).json()
    (entry,) = after["revokedCredentials"]
    assert entry["id"] == f"urn:uuid:{certificate.pk}"
    assert entry["revoked"] is True
    assert entry["revocationReason"] == "Forged"
    assert client.get("/verify/00000000-0000-0000-0000-000000000000/status.json").status_code == (
        404
    )


def test_public_url_setting_names_the_issuer(ministry: MiniMinistry, settings: Any) -> None:
    settings.EDUCAP_PUBLIC_URL = "https://training.moe.example.gov/"
    certificate = issue_certificate(ministry)
    client = Client()
    client.force_login(ministry.users["teacher"])
    response = client.get(f"/training/certificates/{certificate.pk}/credential/?format=json")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.json"')
    credential = response.json()
    assert credential["issuer"]["id"] == "https://training.moe.example.gov/"
    assert credential["credentialStatus"]["id"].startswith("https://training.moe.example.gov/")


def test_hours_text() -> None:
    from decimal import Decimal

    assert [hours_text(Decimal(v)) for v in ("12.0", "10.0", "1.5", "0.5")] == [
        "12",
        "10",
        "1.5",
        "0.5",
    ]

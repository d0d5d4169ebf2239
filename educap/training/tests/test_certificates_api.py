"""/api/v1/certificates/: scoped list and detail, the credential, revoking."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from educap.core.testing import MiniMinistry
from educap.training import signing
from educap.training.models import Certificate
from educap.training.tests.test_certificates_services import issue_certificate

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(ministry: MiniMinistry) -> Certificate:
    return issue_certificate(ministry)


@pytest.fixture
def api_for(ministry: MiniMinistry) -> Any:
    def _client(username: str | None) -> APIClient:
        client = APIClient()
        if username is not None:
            client.force_authenticate(ministry.users[username])
        return client

    return _client


def test_list_is_scoped(ministry: MiniMinistry, certificate: Certificate, api_for: Any) -> None:
    other = issue_certificate(ministry, "g2d1_teacher", unit="G2D1", session_code="S-2")

    def ids(username: str, query: str = "") -> set[str]:
        response = api_for(username).get(f"/api/v1/certificates/{query}")
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids("teacher") == {str(certificate.pk)}
    assert ids("dist") == {str(certificate.pk)}
    assert ids("central") == {str(certificate.pk), str(other.pk)}
    assert ids("partner") == set()
    assert ids("central", "?unit=G2") == {str(other.pk)}
    assert ids("central", f"?search={certificate.person.staff_number}") == {str(certificate.pk)}
    assert api_for(None).get("/api/v1/certificates/").status_code in (401, 403)


def test_detail(ministry: MiniMinistry, certificate: Certificate, api_for: Any) -> None:
    response = api_for("teacher").get(f"/api/v1/certificates/{certificate.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["holder_name"] == certificate.holder_name
    assert body["course"] == "C-DQ1"
    assert body["is_valid"] is True
    assert body["verify_url"] == f"http://testserver/verify/{certificate.pk}/"
    assert body["credential_url"].endswith(f"/api/v1/certificates/{certificate.pk}/credential/")
    assert api_for("partner").get(f"/api/v1/certificates/{certificate.pk}/").status_code == 404


def test_credential_as_jwt_and_json(
    ministry: MiniMinistry, certificate: Certificate, api_for: Any
) -> None:
    client = api_for("teacher")
    url = f"/api/v1/certificates/{certificate.pk}/credential/"
    signed = client.get(url)
    assert signed.status_code == 200
    assert signed["Content-Type"].startswith("text/plain")
    token = signed.content.decode()
    key_set = client.get("/.well-known/jwks.json").json()
    payload = signing.verify_jwt(token, key_set)
    assert payload["type"] == ["VerifiableCredential", "OpenBadgeCredential"]

    vc_jwt = client.get(url, HTTP_ACCEPT="application/vc+jwt")
    assert vc_jwt["Content-Type"].startswith("application/vc+jwt")
    signing.verify_jwt(vc_jwt.content.decode(), key_set)

    decoded = client.get(f"{url}?format=json")
    assert decoded.status_code == 200
    assert decoded["Content-Type"].startswith("application/json")
    assert decoded.json()["id"] == payload["jti"]
    assert "nbf" not in decoded.json()


def test_revoke_over_the_api(
    ministry: MiniMinistry, certificate: Certificate, api_for: Any
) -> None:
    url = f"/api/v1/certificates/{certificate.pk}/"
    holder = api_for("teacher").post(f"{url}revoke/", {"reason": "Mine"}, format="json")
    assert holder.status_code == 403
    assert holder.json()["code"] == "certificate_not_allowed"
    stranger = api_for("partner").post(f"{url}revoke/", {"reason": "No"}, format="json")
    assert stranger.status_code == 404

    manager = api_for("dist")
    missing = manager.post(f"{url}revoke/", {}, format="json")
    assert missing.status_code == 400
    assert missing.json()["code"] == "certificate_reason_required"
    assert missing.json()["field"] == "reason"
    done = manager.post(f"{url}revoke/", {"reason": "Attendance forged"}, format="json")
    assert done.status_code == 200
    assert done.json()["is_valid"] is False
    assert done.json()["revocation_reason"] == "Attendance forged"
    twice = manager.post(f"{url}revoke/", {"reason": "Again"}, format="json")
    assert twice.status_code == 400
    assert twice.json()["code"] == "certificate_already_revoked"

    gone = api_for("teacher").get(f"{url}credential/")
    assert gone.status_code == 409
    assert b"certificate_revoked" in gone.content
    status = api_for(None).get(f"/verify/{certificate.pk}/status.json").json()
    assert status["revokedCredentials"][0]["revocationReason"] == "Attendance forged"

    back = manager.post(f"{url}reinstate/", {"reason": "Sheet found"}, format="json")
    assert back.status_code == 200
    assert back.json()["is_valid"] is True


def test_list_query_count_is_flat(ministry: MiniMinistry, api_for: Any) -> None:
    client = api_for("central")
    issue_certificate(ministry, "g1d1_teacher", session_code="S-0")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/certificates/").status_code == 200
        return len(queries)

    count()  # the caller's scope is read once, then kept on the user
    few = count()
    for n, person in enumerate(["g1d1_head", "g1d2_teacher", "g2d1_teacher", "g2d1_head"]):
        issue_certificate(ministry, person, session_code=f"S-{n + 1}")
    assert count() == few

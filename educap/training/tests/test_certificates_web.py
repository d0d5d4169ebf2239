"""Certificate pages: the public verification page, the holder's and managers' screens, the
PDF, revoking from the web, and what strangers cannot do."""

from __future__ import annotations

import re
import zlib
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from educap.core.testing import MiniMinistry, make_person, make_user
from educap.training.models import Certificate
from educap.training.services.certificates import certificate_revoke
from educap.training.tests.test_certificates_services import issue_certificate

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(ministry: MiniMinistry) -> Certificate:
    return issue_certificate(ministry)


def _as(ministry: MiniMinistry, username: str) -> Client:
    client = Client()
    client.force_login(ministry.users[username])
    return client


def _pdf_text(pdf: bytes) -> bytes:
    """The PDF with its compressed streams inflated, to look for strings in it."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


def _pdf_contains(pdf: bytes, text: str) -> bool:
    """WeasyPrint writes the document title into the PDF metadata (UTF-16 when not ASCII)."""
    inflated = _pdf_text(pdf)
    return text.encode("latin-1", "ignore") in inflated or (
        text.encode("utf-16-be").hex().encode() in inflated.lower()
    )


# --- public verification ---------------------------------------------------------------


def test_verify_page_works_anonymously(client: Client, certificate: Certificate) -> None:
    response = client.get(f"/verify/{certificate.pk}/")
    assert response.status_code == 200
    assert "noindex" in response["X-Robots-Tag"]
    html = response.content.decode()
    assert 'data-status="valid"' in html
    for text in (certificate.holder_name, certificate.course_title, certificate.issuer_name):
        assert text in html
    assert "March 3, 2026" in html
    # Nothing personal beyond the certificate's own fields.
    assert certificate.person.staff_number not in html


def test_verify_page_in_arabic_is_right_to_left(client: Client, certificate: Certificate) -> None:
    response = client.get(f"/verify/{certificate.pk}/", HTTP_ACCEPT_LANGUAGE="ar")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'lang="ar" dir="rtl"' in html
    assert "دورة C-DQ1" in html  # the course's Arabic title
    assert 'name="language"' in html  # the language switcher is there for anonymous visitors


def test_verify_page_shows_revocation(
    client: Client, ministry: MiniMinistry, certificate: Certificate
) -> None:
    certificate_revoke(
        actor=ministry.users["dist"], certificate=certificate, reason="Attendance forged"
    )
    html = client.get(f"/verify/{certificate.pk}/").content.decode()
    assert 'data-status="revoked"' in html
    assert "Attendance forged" in html
    assert 'data-status="valid"' not in html


@pytest.mark.parametrize("pk", ["00000000-0000-0000-0000-000000000000", "not-a-certificate"])
def test_unknown_certificate_has_a_clear_not_found_page(client: Client, pk: str) -> None:
    response = client.get(f"/verify/{pk}/")
    assert response.status_code == 404
    assert 'data-status="not-found"' in response.content.decode()
    assert "noindex" in response["X-Robots-Tag"]


def test_public_addresses_need_no_sign_in(client: Client, certificate: Certificate) -> None:
    for url in (
        f"/verify/{certificate.pk}/",
        f"/verify/{certificate.pk}/status.json",
        "/.well-known/jwks.json",
    ):
        assert client.get(url).status_code == 200, url


# --- the holder ------------------------------------------------------------------------


def test_holder_sees_own_certificates_and_downloads(
    ministry: MiniMinistry, certificate: Certificate
) -> None:
    client = _as(ministry, "teacher")
    mine = client.get("/training/certificates/mine/")
    assert mine.status_code == 200
    assert f"/training/certificates/{certificate.pk}/" in mine.content.decode()
    detail = client.get(f"/training/certificates/{certificate.pk}/")
    html = detail.content.decode()
    assert detail.status_code == 200
    assert f"/verify/{certificate.pk}/" in html
    assert 'id="credential-links"' in html
    assert 'id="revoke-form"' not in html  # the holder cannot revoke
    jwt_response = client.get(f"/training/certificates/{certificate.pk}/credential/")
    assert jwt_response["Content-Disposition"].endswith('.jwt"')
    assert jwt_response.content.count(b".") == 2
    # The holder is not a manager: the managers' list sends them to their own.
    response = client.get("/training/certificates/")
    assert response.status_code == 302
    assert response.url.endswith("/certificates/mine/")  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_pdf_renders_with_the_holder_name(
    ministry: MiniMinistry, certificate: Certificate, language: str
) -> None:
    if language == "ar":
        Certificate.objects.filter(pk=certificate.pk).update(holder_name="سارة الحداد")
        certificate.refresh_from_db()
    response = _as(ministry, "teacher").get(
        f"/training/certificates/{certificate.pk}/pdf/?lang={language}"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    assert _pdf_contains(pdf, certificate.holder_name)
    assert f"-{language}.pdf" in response["Content-Disposition"]


def test_revoked_certificate_gives_no_credential(
    ministry: MiniMinistry, certificate: Certificate
) -> None:
    certificate_revoke(actor=ministry.users["central"], certificate=certificate, reason="Error")
    client = _as(ministry, "teacher")
    response = client.get(f"/training/certificates/{certificate.pk}/credential/")
    assert response.status_code == 302
    html = client.get(f"/training/certificates/{certificate.pk}/").content.decode()
    assert 'id="revoked-notice"' in html
    assert 'id="credential-links"' not in html


# --- strangers -------------------------------------------------------------------------


def test_strangers_cannot_see_or_revoke(ministry: MiniMinistry, certificate: Certificate) -> None:
    colleague = make_person(ministry.units["G2D1S1"])
    make_user("colleague", colleague)
    ministry.users["colleague"] = colleague.user
    for username in ("colleague", "partner", "trainer"):
        client = _as(ministry, username)
        base = f"/training/certificates/{certificate.pk}/"
        for url in (base, f"{base}pdf/", f"{base}credential/"):
            assert client.get(url).status_code == 404, (username, url)
        response = client.post(f"{base}revoke/", {"reason": "Because"})
        assert response.status_code == 404
    certificate.refresh_from_db()
    assert certificate.is_valid


def test_holder_cannot_revoke_own(ministry: MiniMinistry, certificate: Certificate) -> None:
    response = _as(ministry, "teacher").post(
        f"/training/certificates/{certificate.pk}/revoke/", {"reason": "Mine"}
    )
    assert response.status_code == 403
    certificate.refresh_from_db()
    assert certificate.is_valid


def test_anonymous_is_sent_to_sign_in(client: Client, certificate: Certificate) -> None:
    response = client.get(f"/training/certificates/{certificate.pk}/")
    assert response.status_code == 302
    assert "/accounts/" in response.url  # type: ignore[attr-defined]


# --- managers --------------------------------------------------------------------------


def test_manager_revokes_and_reinstates(ministry: MiniMinistry, certificate: Certificate) -> None:
    client = _as(ministry, "dist")
    url = f"/training/certificates/{certificate.pk}/"
    assert 'id="revoke-form"' in client.get(url).content.decode()
    empty = client.post(f"{url}revoke/", {"reason": "  "})
    assert empty.status_code == 400
    assert 'id="reason-error"' in empty.content.decode()
    response = client.post(f"{url}revoke/", {"reason": "Attendance forged"})
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert not certificate.is_valid
    assert certificate.revoked_by == ministry.users["dist"]
    again = client.post(f"{url}revoke/", {"reason": "Twice"})
    assert again.status_code == 400  # already revoked, shown on the form
    client.post(f"{url}reinstate/", {"reason": "Attendance sheet found"})
    certificate.refresh_from_db()
    assert certificate.is_valid


def test_manager_list_filters(ministry: MiniMinistry, certificate: Certificate) -> None:
    other = issue_certificate(
        ministry, "g1d2_teacher", unit="G1", course_code="C-X", session_code="S-2"
    )
    client = _as(ministry, "gov1")
    html = client.get("/training/certificates/").content.decode()
    assert certificate.holder_name in html
    assert other.holder_name in html
    html = client.get("/training/certificates/?course=C-X").content.decode()
    assert certificate.holder_name not in html
    assert other.holder_name in html
    html = client.get("/training/certificates/?unit=G1D1").content.decode()
    assert certificate.holder_name in html
    assert other.holder_name not in html
    html = client.get("/training/certificates/?unit=NOPE").content.decode()
    assert 'id="cert-unit-error"' in html
    html = client.get("/training/certificates/?status=revoked").content.decode()
    assert "certificate-table" not in html
    # A district manager of the other district sees neither.
    html = _as(ministry, "dist").get("/training/certificates/").content.decode()
    assert certificate.holder_name in html
    assert other.holder_name not in html


def _list_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_rows(
    ministry: MiniMinistry, django_assert_max_num_queries: Any
) -> None:
    people = ["g1d1_teacher", "g1d1_head", "g1d2_teacher", "g2d1_teacher", "g2d1_head"]
    issue_certificate(ministry, people[0], session_code="S-0")
    client = _as(ministry, "central")
    few = _list_queries(client, "/training/certificates/")
    mine_few = _list_queries(_as(ministry, "teacher"), "/training/certificates/mine/")
    for n, person in enumerate(people[1:], start=1):
        issue_certificate(ministry, person, session_code=f"S-{n}")
        issue_certificate(ministry, people[0], session_code=f"T-{n}")
    assert _list_queries(client, "/training/certificates/") == few
    assert _list_queries(_as(ministry, "teacher"), "/training/certificates/mine/") == mine_few
    with django_assert_max_num_queries(12):
        client.get("/training/certificates/")

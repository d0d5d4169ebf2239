import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from educap.core.testing import MiniMinistry

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db
def test_security_headers_and_no_store(ministry: MiniMinistry) -> None:
    client = Client()
    client.force_login(ministry.users["central"])
    response = client.get(reverse("people:list"))
    assert "no-store" in response["Cache-Control"]
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_healthz_checks_the_database() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_api_errors_are_json_with_codes(ministry: MiniMinistry) -> None:
    client = Client()
    client.force_login(ministry.users["teacher"])
    response = client.get("/api/v1/people/999999/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found.", "field": None}


@pytest.mark.django_db
def test_openapi_schema_and_docs(ministry: MiniMinistry) -> None:
    client = Client()
    client.force_login(ministry.users["teacher"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/people/", "/api/v1/org-units/", "/api/v1/roles/", "/api/v1/me/"):
        assert path in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "cdn" not in docs.content.decode().lower()


@pytest.mark.django_db
def test_token_auth(ministry: MiniMinistry) -> None:
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=ministry.users["dist"])
    client = Client()
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert response.json()["grants"] == [{"kind": "unit_manager", "unit": "G1D1"}]


def _run_django(args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("EDUCAP_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(env_extra)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_production_refuses_to_start_without_secret_key() -> None:
    result = _run_django(["check"], {"EDUCAP_PRODUCTION": "true"})
    assert result.returncode != 0
    assert "EDUCAP_SECRET_KEY" in result.stderr


def test_check_deploy_passes_with_documented_production_settings() -> None:
    result = _run_django(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {
            "EDUCAP_PRODUCTION": "true",
            "EDUCAP_SECRET_KEY": "x" * 64 + "production-like-secret-key-for-the-check",
            "EDUCAP_ALLOWED_HOSTS": "educap.example.org",
        },
    )
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.django_db
def test_service_error_codes_reach_the_api() -> None:
    from django.core.exceptions import PermissionDenied, ValidationError

    from educap.core.api import exception_handler
    from educap.core.errors import field_error

    invalid = exception_handler(field_error("level", "Too high.", "level_too_high"), {})
    assert invalid is not None
    assert invalid.data["code"] == "level_too_high"
    assert invalid.data["field"] == "level"
    plain = exception_handler(ValidationError("Nope.", code="not_draft"), {})
    assert plain is not None
    assert plain.data["code"] == "not_draft"
    denied = exception_handler(PermissionDenied("unit_outside_scope"), {})
    assert denied is not None
    assert denied.status_code == 403
    assert denied.data["code"] == "unit_outside_scope"

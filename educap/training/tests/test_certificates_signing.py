"""The installation's signing keys and the VC-JWT signature, checked the way a verifier
would: with the public key fetched from /.well-known/jwks.json."""

from __future__ import annotations

import base64
import json
from io import StringIO
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.core.management import CommandError, call_command
from django.test import Client

from educap.core.testing import MiniMinistry
from educap.training import signing
from educap.training.credentials import credential_jwt
from educap.training.models import Certificate, SigningKey
from educap.training.tests.test_certificates_services import issue_certificate

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(ministry: MiniMinistry) -> Certificate:
    return issue_certificate(ministry)


def _published(client: Client) -> dict[str, Any]:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.json()  # type: ignore[no-any-return]


def _credential(client: Client, certificate: Certificate) -> str:
    client.force_login(certificate.person.user)
    response = client.get(f"/training/certificates/{certificate.pk}/credential/")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    client.logout()
    return response.content.decode()


def _tamper(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_jwks_publishes_the_active_kid_and_no_private_member(client: Client) -> None:
    key_set = _published(client)
    active = SigningKey.objects.get(is_active=True)
    assert active.algorithm == "EdDSA"
    (jwk,) = key_set["keys"]
    assert jwk["kid"] == active.kid == signing.thumbprint(jwk)
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    assert jwk["alg"] == "EdDSA"
    assert "d" not in jwk
    assert "p" not in jwk
    assert "PRIVATE" not in json.dumps(key_set)


def test_thumbprint_matches_rfc_7638_example() -> None:
    # The RSA key of RFC 7638, section 3.1, and its published thumbprint.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6"
        "tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65"
        "YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdk"
        "t-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDK"
        "gw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert signing.thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_credential_verifies_with_the_published_key_and_tampering_fails(
    client: Client, certificate: Certificate
) -> None:
    token = _credential(client, certificate)
    header = jwt.get_unverified_header(token)
    assert set(header) == {"alg", "kid", "typ"}
    assert header["alg"] == "EdDSA"
    assert header["typ"] == "JWT"
    # The kid is a URL that resolves to the bare public key, also listed in the JWKS.
    assert header["kid"].startswith("http://testserver/.well-known/jwks/")
    key = client.get(header["kid"].removeprefix("http://testserver")).json()
    key_set = _published(client)
    assert key in key_set["keys"]

    payload = signing.verify_jwt(token, key_set)
    assert payload["jti"] == f"urn:uuid:{certificate.pk}"
    assert payload["credentialSubject"]["identifier"][0]["identityHash"] == certificate.holder_name

    forged = _tamper(token, name="Doctorate in everything")
    with pytest.raises(jwt.InvalidSignatureError):
        signing.verify_jwt(forged, key_set)
    with pytest.raises(jwt.InvalidKeyError):
        signing.verify_jwt(token, {"keys": []})


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
def test_both_algorithms_sign_verifiable_credentials(
    client: Client, certificate: Certificate, settings: Any, algorithm: str
) -> None:
    settings.EDUCAP_SIGNING_ALGORITHM = algorithm
    token = _credential(client, certificate)
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    key_set = _published(client)
    assert signing.verify_jwt(token, key_set)["iss"] == "http://testserver/"
    kty = {"RS256": "RSA", "EdDSA": "OKP"}[algorithm]
    assert key_set["keys"][0]["kty"] == kty
    with pytest.raises(jwt.InvalidSignatureError):
        signing.verify_jwt(_tamper(token, validFrom="2000-01-01T00:00:00Z"), key_set)


def test_rotating_to_another_algorithm_keeps_old_credentials_verifiable(
    client: Client, certificate: Certificate, settings: Any
) -> None:
    old_token = _credential(client, certificate)
    settings.EDUCAP_SIGNING_ALGORITHM = "RS256"
    assert jwt.get_unverified_header(_credential(client, certificate))["alg"] == "EdDSA"
    call_command("rotate_signing_key", stdout=StringIO())  # takes the configured algorithm
    new_token = _credential(client, certificate)
    key_set = _published(client)
    assert [k["alg"] for k in key_set["keys"]] == ["RS256", "EdDSA"]  # active first
    assert (
        signing.verify_jwt(old_token, key_set)["jti"]
        == signing.verify_jwt(new_token, key_set)["jti"]
    )
    assert SigningKey.objects.filter(is_active=True).count() == 1


def test_rotate_signing_key_command(client: Client, certificate: Certificate) -> None:
    old_token = _credential(client, certificate)
    old_kid = SigningKey.objects.get(is_active=True).kid
    out = StringIO()
    call_command("rotate_signing_key", "--algorithm", "RS256", stdout=out)
    new = SigningKey.objects.get(is_active=True)
    assert new.kid != old_kid
    assert new.algorithm == "RS256"
    assert new.kid in out.getvalue()
    assert "PRIVATE" not in out.getvalue()
    key_set = _published(client)
    assert {k["kid"] for k in key_set["keys"]} == {old_kid, new.kid}
    signing.verify_jwt(old_token, key_set)
    assert jwt.get_unverified_header(_credential(client, certificate))["kid"].endswith(
        f"/{new.kid}.json"
    )


def _write_key(path: Path, key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def test_key_file_overrides_the_database_key(
    client: Client, certificate: Certificate, settings: Any, tmp_path: Path
) -> None:
    db_kid = signing.active_key().kid
    file_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.EDUCAP_SIGNING_KEY_FILE = str(_write_key(tmp_path / "signing.pem", file_key))
    token = _credential(client, certificate)
    active = SigningKey.objects.get(is_active=True)
    assert active.kid == signing.public_jwk(file_key)["kid"] != db_kid
    assert active.private_pem == ""  # the private half stays in the file
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    signing.verify_jwt(token, _published(client))
    with pytest.raises(CommandError):
        call_command("rotate_signing_key", stdout=StringIO())


def test_unusable_key_file_is_a_configuration_error(settings: Any, tmp_path: Path) -> None:
    from django.core.exceptions import ImproperlyConfigured

    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    settings.EDUCAP_SIGNING_KEY_FILE = str(bad)
    with pytest.raises(ImproperlyConfigured):
        signing.active_key()
    settings.EDUCAP_SIGNING_KEY_FILE = ""
    settings.EDUCAP_SIGNING_ALGORITHM = "HS256"
    with pytest.raises(ImproperlyConfigured):
        signing.active_key()


def test_token_signed_elsewhere_with_the_same_kid_fails(
    ministry: MiniMinistry, certificate: Certificate
) -> None:
    token = credential_jwt(certificate, base="https://educap.example.org")
    key_set = signing.jwks()
    impostor = ed25519.Ed25519PrivateKey.generate()
    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(payload, impostor, algorithm="EdDSA", headers={"kid": header["kid"]})
    with pytest.raises(jwt.InvalidSignatureError):
        signing.verify_jwt(forged, key_set)


def test_signing_with_a_given_key_uses_that_key_even_after_a_rotation(
    client: Client, certificate: Certificate
) -> None:
    old = signing.active_key()
    call_command("rotate_signing_key", stdout=StringIO())
    assert signing.active_key().kid != old.kid
    token = signing.sign_jwt({"jti": "x"}, kid=f"https://example.test/{old.kid}", key=old)
    header = jwt.get_unverified_header(token)
    assert header["kid"].endswith(old.kid)
    assert signing.verify_jwt(token, _published(client))["jti"] == "x"

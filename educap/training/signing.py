"""The installation's signing key: credentials are signed with it, verifiers fetch its public
half from /.well-known/jwks.json.

Keys are Ed25519 ("EdDSA", the default) or RSA 2048 ("RS256"), chosen by the setting
EDUCAP_SIGNING_ALGORITHM for the first key and for each rotation (`rotate_signing_key`;
changing the setting alone does not replace the active key). A key's `kid` is its RFC 7638
thumbprint. Retired keys stay
published so that credentials signed with them keep verifying. EDUCAP_SIGNING_KEY_FILE names
a PEM private key that replaces the database key; its private half is then never stored.

The private key leaves this module only as a signature.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.training.models import SigningKey

if TYPE_CHECKING:
    from educap.accounts.models import User

ALGORITHMS = ("EdDSA", "RS256")
DEFAULT_ALGORITHM = "EdDSA"
RSA_KEY_SIZE = 2048

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


def configured_algorithm() -> str:
    algorithm = str(getattr(settings, "EDUCAP_SIGNING_ALGORITHM", "") or DEFAULT_ALGORITHM)
    if algorithm not in ALGORITHMS:
        raise ImproperlyConfigured(
            f"EDUCAP_SIGNING_ALGORITHM must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}."
        )
    return algorithm


def _key_file() -> Path | None:
    name = str(getattr(settings, "EDUCAP_SIGNING_KEY_FILE", "") or "")
    return Path(name) if name else None


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def algorithm_of(key: PrivateKey) -> str:
    return "EdDSA" if isinstance(key, ed25519.Ed25519PrivateKey) else "RS256"


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 over the required members, sorted, without whitespace."""
    required = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("e", "kty", "n")
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def public_jwk(key: PrivateKey) -> dict[str, Any]:
    """The public half as a JWK with kid, alg and use; never any private member."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        jwk: dict[str, Any] = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
    else:
        numbers = key.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}
    return {**jwk, "kid": thumbprint(jwk), "alg": algorithm_of(key), "use": "sig"}


def generate_private_key(algorithm: str) -> PrivateKey:
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)
    return ed25519.Ed25519PrivateKey.generate()


def _pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _load_pem(data: bytes, where: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{where} holds no unencrypted PEM private key.") from exc
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < RSA_KEY_SIZE:
        raise ImproperlyConfigured(f"{where}: RSA keys need at least {RSA_KEY_SIZE} bits.")
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise ImproperlyConfigured(f"{where}: only Ed25519 and RSA keys can sign credentials.")
    return key


def _file_key() -> PrivateKey | None:
    path = _key_file()
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(f"EDUCAP_SIGNING_KEY_FILE cannot be read: {exc}") from exc
    return _load_pem(data, "EDUCAP_SIGNING_KEY_FILE")


def _activate(key: SigningKey) -> None:
    SigningKey.objects.exclude(pk=key.pk).filter(is_active=True).update(is_active=False)
    if not key.is_active:
        key.is_active = True
        key.save(update_fields=["is_active"])


def _store(private: PrivateKey, *, keep_private: bool) -> SigningKey:
    jwk = public_jwk(private)
    key, _created = SigningKey.objects.get_or_create(
        kid=jwk["kid"],
        defaults={
            "algorithm": jwk["alg"],
            "private_pem": _pem(private) if keep_private else "",
            "public_jwk": jwk,
        },
    )
    return key


@transaction.atomic
def active_key() -> SigningKey:
    """The key new credentials are signed with; the first one is made on first use, of the
    configured algorithm. A key file wins over the database."""
    from_file = _file_key()
    if from_file is not None:
        key = _store(from_file, keep_private=False)
        if not key.is_active or SigningKey.objects.filter(is_active=True).count() > 1:
            _activate(key)
        return key
    stored = SigningKey.objects.filter(is_active=True).exclude(private_pem="").first()
    if stored is not None:
        return stored
    return _rotate(actor=None, algorithm=configured_algorithm())


def _rotate(*, actor: User | None, algorithm: str) -> SigningKey:
    key = _store(generate_private_key(algorithm), keep_private=True)
    _activate(key)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=key,
        after={"kid": key.kid, "algorithm": key.algorithm, "is_active": True},
    )
    return key


@transaction.atomic
def signing_key_rotate(*, actor: User | None, algorithm: str | None = None) -> SigningKey:
    """A new active key; the previous ones are retired but stay in the JWKS."""
    if _key_file() is not None:
        raise ImproperlyConfigured(
            "EDUCAP_SIGNING_KEY_FILE is set: replace that file to change the signing key."
        )
    algorithm = algorithm or configured_algorithm()
    if algorithm not in ALGORITHMS:
        raise ValueError(f"Unknown algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}.")
    return _rotate(actor=actor, algorithm=algorithm)


def _private_key(key: SigningKey) -> PrivateKey:
    if not key.private_pem:
        from_file = _file_key()
        if from_file is None or public_jwk(from_file)["kid"] != key.kid:
            raise ImproperlyConfigured(f"The private half of signing key {key.kid} is missing.")
        return from_file
    return _load_pem(key.private_pem.encode("ascii"), f"signing key {key.kid}")


def jwks() -> dict[str, list[dict[str, Any]]]:
    """Every key's public JWK, the active one first."""
    active_key()
    keys = SigningKey.objects.order_by("-is_active", "-created_at").values_list(
        "public_jwk", flat=True
    )
    return {"keys": [public_only(jwk) for jwk in keys]}


def public_only(jwk: dict[str, Any]) -> dict[str, Any]:
    """A published JWK never carries private members, whatever was stored."""
    allowed = {"kty", "crv", "x", "n", "e", "kid", "alg", "use"}
    return {k: v for k, v in jwk.items() if k in allowed}


def published_key(kid: str) -> dict[str, Any] | None:
    jwk = SigningKey.objects.filter(kid=kid).values_list("public_jwk", flat=True).first()
    return public_only(jwk) if jwk is not None else None


def sign_jwt(
    payload: dict[str, Any], *, kid: str | None = None, key: SigningKey | None = None
) -> str:
    """A compact JWS over `payload` with `key` (default: the active key); the header is
    {alg, kid, typ}.

    `kid` replaces the bare key id in the header, e.g. with a URL that resolves to the key;
    a caller that builds it from a key passes that same key, so that a rotation between
    the two cannot pair one key's id with another key's signature."""
    key = key or active_key()
    return jwt.encode(
        payload,
        _private_key(key),
        algorithm=key.algorithm,
        headers={"kid": kid or key.kid, "typ": "JWT"},
    )


def key_id_of(header_kid: str) -> str:
    """The thumbprint a JOSE header's kid names, whether bare or as a key URL."""
    last = header_kid.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return last.removesuffix(".json")


def verify_jwt(token: str, key_set: dict[str, Any]) -> dict[str, Any]:
    """Check a compact JWS against a published JWKS and return its payload.

    Raises jwt.InvalidTokenError (or a subclass) when the key is unknown or the signature,
    algorithm or time claims are wrong."""
    header = jwt.get_unverified_header(token)
    kid = key_id_of(str(header.get("kid", "")))
    match = next((k for k in key_set.get("keys", []) if k.get("kid") == kid), None)
    if match is None:
        raise jwt.InvalidKeyError(f"No published key has the id {kid!r}.")
    if thumbprint(match) != kid:
        raise jwt.InvalidKeyError(f"The published key {kid!r} does not match its id.")
    algorithm = str(match.get("alg") or header.get("alg") or "")
    if header.get("alg") != algorithm or algorithm not in ALGORITHMS:
        raise jwt.InvalidAlgorithmError("The token's algorithm is not the key's.")
    public = jwt.PyJWK(match, algorithm=algorithm).key
    payload: dict[str, Any] = jwt.decode(
        token, public, algorithms=[algorithm], options={"verify_aud": False}
    )
    return payload

"""HTTP basic authentication of learning record providers (XapiClient key and secret).

Secrets are stored with Django's password hashers. Verifying an Argon2 hash on every
statement request would dominate the LRS's time, so a successful check is remembered in
the cache for a few minutes under a digest of the client, its current hash and the secret:
a new secret or a deactivation takes effect at once. Repeated failures from one address
are answered with 429 for a while.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from educap.training.lrs.errors import XapiError, XapiErrorCode
from educap.training.models import XapiClient

REALM = 'Basic realm="EduCap xAPI", charset="UTF-8"'
VERIFIED_SECONDS = 300
FAILURE_LIMIT = 30
FAILURE_WINDOW_SECONDS = 600
LAST_USED_EVERY = dt.timedelta(minutes=1)


def new_key() -> str:
    return f"xapi-{secrets.token_hex(12)}"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return make_password(secret)


def _refused(detail: str) -> XapiError:
    return XapiError(401, XapiErrorCode.NOT_AUTHENTICATED, detail)


def _credentials(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise _refused("Send HTTP basic credentials (the client key and secret).")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _refused("The basic credentials are not valid base64.") from exc
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        text = decoded.decode("latin-1")
    key, _, secret = text.partition(":")
    return key, secret


def _failure_key(address: str) -> str:
    return f"xapi-auth-failures:{address}"


def _verified_key(client: XapiClient, secret: str) -> str:
    digest = hashlib.sha256(f"{client.pk}\0{client.secret_hash}\0{secret}".encode()).hexdigest()
    return f"xapi-auth-ok:{digest}"


def client_authenticate(*, authorization: str, address: str) -> XapiClient:
    """The active client these credentials belong to; XapiError 401 (or 429) otherwise."""
    failures = cache.get(_failure_key(address), 0)
    if failures >= FAILURE_LIMIT:
        raise XapiError(
            429, XapiErrorCode.TOO_MANY_FAILURES, "Too many failed sign-ins; try again later."
        )
    key, secret = _credentials(authorization)
    client = XapiClient.objects.filter(key=key).first() if key else None
    if client is None or not secret:
        check_password(secret, "")  # spend the same time as a real check
        _count_failure(address)
        raise _refused("Unknown client key or wrong secret.")
    if not cache.get(_verified_key(client, secret)):
        if not check_password(secret, client.secret_hash):
            _count_failure(address)
            raise _refused("Unknown client key or wrong secret.")
        cache.set(_verified_key(client, secret), True, VERIFIED_SECONDS)
    if not client.is_active:
        raise _refused("These credentials have been deactivated.")
    now = timezone.now()
    # One write a minute at most, however many statements arrive.
    XapiClient.objects.filter(pk=client.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY)
    ).update(last_used_at=now)
    return client


def _count_failure(address: str) -> None:
    key = _failure_key(address)
    if not cache.add(key, 1, FAILURE_WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, FAILURE_WINDOW_SECONDS)

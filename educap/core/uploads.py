"""Files waiting between an import's preview and its confirmation.

The file is kept under MEDIA_ROOT/imports/ (owner-only permissions) and the form carries a
signed token naming it, tied to the uploader and to the file's hash, valid for an hour.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing

TOKEN_MAX_AGE = 3600  # seconds between preview and confirmation
_FOLDER = "imports"


@dataclass(frozen=True)
class StagedUpload:
    path: Path
    name: str
    extra: dict[str, Any]

    def read(self) -> bytes:
        return self.path.read_bytes()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)

    def claim(self) -> StagedUpload | None:
        """Take the file for applying (an atomic rename): a double-clicked confirm applies once."""
        claimed = self.path.with_name(f"{self.path.name}.applying")
        try:
            self.path.rename(claimed)
        except FileNotFoundError:
            return None
        return StagedUpload(path=claimed, name=self.name, extra=self.extra)


def _folder() -> Path:
    return Path(settings.MEDIA_ROOT) / _FOLDER


def _sweep() -> None:
    """Forget files whose token can no longer be used."""
    folder = _folder()
    if not folder.is_dir():
        return
    limit = time.time() - 2 * TOKEN_MAX_AGE
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def stage_upload(*, data: bytes, user_id: int, salt: str, name: str, **extra: Any) -> str:
    """Keep `data` and return the token that brings it back for the same user."""
    _sweep()
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    key = uuid.uuid4().hex
    fd = os.open(folder / key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    payload = {
        "key": key,
        "user": user_id,
        "sha256": hashlib.sha256(data).hexdigest(),
        "name": name,
        "extra": extra,
    }
    return signing.dumps(payload, salt=salt)


def staged_upload(*, token: str, user_id: int, salt: str) -> StagedUpload | None:
    """The staged file for this token and user, or None when expired, forged or gone."""
    try:
        payload = signing.loads(token, salt=salt, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if payload.get("user") != user_id or not str(payload.get("key", "")).isalnum():
        return None
    path = _folder() / payload["key"]
    if not path.is_file():
        return None
    if hashlib.sha256(path.read_bytes()).hexdigest() != payload.get("sha256"):
        return None
    return StagedUpload(path=path, name=str(payload.get("name", "")), extra=payload["extra"])

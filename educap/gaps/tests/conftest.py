import pytest
from rest_framework.test import APIClient

from educap.core.testing import MiniMinistry


@pytest.fixture(autouse=True)
def _always_incremental(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests compare increments with rebuilds: keep the small test trees from taking the
    "most of the tree is touched: rebuild" shortcut, which would compare a rebuild with
    itself."""
    monkeypatch.setattr("educap.gaps.engine.REBUILD_SHARE", 100.0)


@pytest.fixture
def api_for(ministry: MiniMinistry):
    """An API client authenticated as one of the mini ministry's users (None: anonymous)."""

    def _client(username: str | None) -> APIClient:
        client = APIClient()
        if username is not None:
            client.force_authenticate(ministry.users[username])
        return client

    return _client

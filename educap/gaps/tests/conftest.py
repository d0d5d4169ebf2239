import pytest


@pytest.fixture(autouse=True)
def _always_incremental(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests compare increments with rebuilds: keep the small test trees from taking the
    "most of the tree is touched: rebuild" shortcut, which would compare a rebuild with
    itself."""
    monkeypatch.setattr("educap.gaps.engine.REBUILD_SHARE", 100.0)

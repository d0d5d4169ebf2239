import pytest

from educap.core.uploads import stage_upload, staged_upload


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


def test_round_trip_for_the_same_user_only() -> None:
    token = stage_upload(data=b"abc", user_id=7, salt="t", name="f.csv", format="csv")
    staged = staged_upload(token=token, user_id=7, salt="t")
    assert staged is not None
    assert staged.read() == b"abc"
    assert staged.name == "f.csv"
    assert staged.extra == {"format": "csv"}
    assert staged_upload(token=token, user_id=8, salt="t") is None
    assert staged_upload(token=token, user_id=7, salt="other") is None
    assert staged_upload(token=token + "x", user_id=7, salt="t") is None


def test_a_changed_file_is_refused() -> None:
    token = stage_upload(data=b"abc", user_id=1, salt="t", name="f")
    staged = staged_upload(token=token, user_id=1, salt="t")
    assert staged is not None
    staged.path.write_bytes(b"tampered")
    assert staged_upload(token=token, user_id=1, salt="t") is None


def test_claim_happens_once() -> None:
    token = stage_upload(data=b"abc", user_id=1, salt="t", name="f")
    first = staged_upload(token=token, user_id=1, salt="t")
    assert first is not None
    claimed = first.claim()
    assert claimed is not None
    assert claimed.read() == b"abc"
    assert first.claim() is None
    assert staged_upload(token=token, user_id=1, salt="t") is None
    claimed.discard()
    assert not claimed.path.exists()

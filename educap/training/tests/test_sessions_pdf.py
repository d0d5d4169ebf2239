"""The printable sign-in sheet: a PDF with one page per day and every participant's name,
in English and in Arabic (right to left, set in the vendored Noto Sans Arabic)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from educap.core.testing import MiniMinistry
from educap.training.models import SessionStatus, TrainingSession
from educap.training.tests.factories import make_course, make_enrolment, make_session

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed"),
]


def _poppler(tool: str, *args: str) -> str:
    path = shutil.which(tool)
    assert path is not None
    return subprocess.run(  # noqa: S603 - fixed tool, arguments from the test itself
        [path, *args], capture_output=True, check=True, text=True
    ).stdout


@pytest.fixture
def session(ministry: MiniMinistry) -> TrainingSession:
    session = make_session(
        make_course(), ministry.units["G1D1"], days=3, status=SessionStatus.RUNNING
    )
    head = ministry.people["g1d1_head"]
    head.name_local = "ليلى حداد"
    head.save()
    make_enrolment(session, head)
    make_enrolment(session, ministry.people["g1d1_teacher"])
    return session


def _pdf(ministry: MiniMinistry, session: TrainingSession, tmp_path: Path, language: str,
         **query: str) -> Path:  # fmt: skip
    client = Client()
    client.force_login(ministry.users["dist"])
    client.cookies["django_language"] = language
    response = client.get(reverse("training:session_signin_pdf", args=[session.code]), query)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    path = tmp_path / f"sheet-{language}.pdf"
    path.write_bytes(response.content)
    return path


def _pages(path: Path) -> int:
    found = re.search(r"Pages:\s+(\d+)", _poppler("pdfinfo", str(path)))
    assert found is not None
    return int(found.group(1))


def test_sheet_has_a_page_per_day_and_every_name(ministry, session, tmp_path) -> None:
    path = _pdf(ministry, session, tmp_path, "en")
    assert _pages(path) == 3
    text = _poppler("pdftotext", str(path), "-")
    for key in ("g1d1_head", "g1d1_teacher"):
        person = ministry.people[key]
        assert person.full_name in text
        assert person.staff_number in text
    assert "Sign-in sheet" in text
    assert "Day 2 of 3" in text
    # One day only.
    assert _pages(_pdf(ministry, session, tmp_path, "en", day="2026-03-03")) == 1


def test_sheet_in_arabic_reads_right_to_left(ministry, session, tmp_path) -> None:
    path = _pdf(ministry, session, tmp_path, "ar")
    text = _poppler("pdftotext", str(path), "-")
    assert ministry.people["g1d1_head"].full_name in text
    assert ministry.people["g1d1_head"].staff_number in text
    # The Arabic name is shaped with the vendored Arabic font (the system has none).
    fonts = _poppler("pdffonts", str(path))
    assert re.search(r"Noto-?Sans-?Arabic", fonts)
    _poppler("pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "p"))
    assert list(tmp_path.glob("p*.png"))


def test_sheet_is_for_the_people_who_run_the_session(ministry, session) -> None:
    client = Client()
    client.force_login(ministry.users["teacher"])
    response = client.get(reverse("training:session_signin_pdf", args=[session.code]))
    assert response.status_code in (403, 404)

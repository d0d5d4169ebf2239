"""The training journey of the issue's "done when", in English and in Arabic on a 360 px
phone: from a district's training needs an officer plans a session, enrols the people below
requirement, takes attendance on the phone and completes the session; a learner then sees
the completion, and the district's gap rollup counts them as meeting the requirement."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.utils import timezone

from educap.assessments.tests.factories import make_published_framework
from educap.core.testing import build_mini_ministry, make_person, make_user
from educap.core.tests.browser.conftest import screenshot
from educap.frameworks.defaults import ensure_default_scale
from educap.gaps import selectors as gap_selectors
from educap.gaps.engine import gaps_rebuild
from educap.gaps.selectors import GapFilters
from educap.training.models import Certificate, CpdRecord, Enrolment, EnrolmentStatus
from educap.training.tests.factories import make_course
from educap.training.tests.test_sessions_services import rate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long test passphrase"  # educap.core.testing.make_user's


@pytest.fixture
def district(transactional_db: None) -> dict:
    """G1D1 with three EMIS officers below D1.2 (levels 0, 1, 1) and a course that brings it
    to 3; the first of them can sign in."""
    ensure_default_scale()  # the flush after a transactional test drops the migrated scale
    ministry = build_mini_ministry()
    framework = make_published_framework()
    gaps_rebuild()
    d12 = framework.items.get(code="D1.2")
    role = ministry.people["g1d1_officer"].role
    school = ministry.units["G1D1S1"]
    learners = [
        make_person(school, role, family_name=name, given_name="Officer")
        for name in ("Amal", "Badr", "Dina")
    ]
    for person, level in zip(learners, (0, 1, 1), strict=True):
        rate(person, d12, level, days_ago=60)
    rate(ministry.people["g1d1_officer"], d12, 3, days_ago=60)
    gaps_rebuild()
    make_course("C-DQ1", framework=framework, records_evidence=True, title="Data quality")
    make_user("learner", learners[0])
    return {"ministry": ministry, "framework": framework, "item": d12, "learners": learners}


def _login(page, live_server, username: str, language: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    # On a phone the language menu sits in the collapsed navbar: set the cookie it would set.
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )


def _no_page_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _meeting(district: dict) -> int:
    matrix = gap_selectors.unit_matrix(
        user=district["ministry"].users["admin"],
        unit=district["ministry"].units["G1D1"],
        filters=GapFilters(framework=district["framework"]),
    )
    return matrix.columns[district["item"].pk].meeting


@pytest.mark.parametrize("language", ["en", "ar"])
def test_officer_runs_a_session_from_the_needs_and_the_learner_completes(
    chromium, phone_page, live_server, district, language
):
    page = phone_page
    page.on("dialog", lambda dialog: dialog.accept())
    today = timezone.localdate()
    meeting_before = _meeting(district)
    _login(page, live_server, "dist", language)

    # 1. From the district's training need (D1.2): plan a session of the course for it.
    page.goto(f"{live_server.url}/training/sessions/new/?unit=G1D1&item={district['item'].pk}")
    assert page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
    assert page.locator("#session-need").is_visible()
    assert page.locator("#id_course").input_value() != ""  # the one course for the need
    page.fill("#id_starts_on", today.isoformat())
    page.fill("#id_ends_on", (today + dt.timedelta(days=1)).isoformat())
    page.fill("#id_capacity", "2")
    page.fill("#id_venue", "District office")
    assert _no_page_scroll(page)
    screenshot(page, f"training-create-{language}-360")
    page.click("#session-form button[type=submit]")

    # 2. Bulk enrolment: the preview lists the three officers below requirement.
    page.wait_for_url(re.compile(r"/bulk-enrol/"))
    assert page.inner_text("#preview-total").strip() == "3"
    assert page.locator("#preview-people tbody tr").count() == 3
    assert _no_page_scroll(page)
    screenshot(page, f"training-bulk-{language}-360")
    page.click("#bulk-confirm button[type=submit]")
    page.wait_for_url(re.compile(r"/training/sessions/[^/]+/$"))
    code = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert page.locator("#enrolled-table tbody tr").count() == 2
    assert page.locator("#waitlist li").count() == 1
    # Open it, then start it.
    for status in ("open", "running"):
        page.click(f"#session-actions form:has(input[value='{status}']) button")
        page.wait_for_load_state("load")
    screenshot(page, f"training-detail-{language}-360")

    # 3. Attendance on the phone, one tap per person and day (each tap saves).
    for day in (today, today + dt.timedelta(days=1)):
        page.goto(f"{live_server.url}/training/sessions/{code}/attendance/?day={day}")
        rows = page.locator("#att-list li")
        assert rows.count() == 2
        for n in range(2):
            row = page.locator("#att-list li").nth(n)
            row.locator("button[name=present][value='1']").click()
            page.locator("#att-list li").nth(n).locator(
                "button[name=present][value='1'][aria-pressed=true]"
            ).wait_for()
        assert _no_page_scroll(page)
        box = page.locator("#att-list li button[name=present]").first.bounding_box()
        assert box is not None
        assert box["height"] >= 44  # a big tap target
    screenshot(page, f"training-attendance-{language}-360")

    # 4. Complete.
    page.goto(f"{live_server.url}/training/sessions/{code}/complete/")
    assert page.locator("#complete-table tbody tr").count() == 2
    screenshot(page, f"training-complete-{language}-360")
    page.click("#complete-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/training/sessions/{code}/$"))
    completed = Enrolment.objects.filter(session__code=code, status=EnrolmentStatus.COMPLETED)
    assert completed.count() == 2
    learner = district["learners"][0]
    assert Certificate.objects.filter(person=learner).count() == 1
    assert CpdRecord.objects.filter(person=learner).count() == 1
    assert _meeting(district) == meeting_before + 2

    # 5. The learner sees the completion in My training.
    page.context.clear_cookies()
    _login(page, live_server, "learner", language)
    page.goto(f"{live_server.url}/training/my-training/")
    entry = page.locator("#my-enrolments .my-enrolment").first
    assert entry.locator(".badge.text-bg-success").count() == 1
    assert "100%" in entry.inner_text()
    assert _no_page_scroll(page)
    screenshot(page, f"training-mine-{language}-360")

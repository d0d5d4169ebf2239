"""Gap journeys on the seeded demo (MASS-DEMO ratings, rollups rebuilt): a central officer
drills the dashboard from the ministry to a school; a staff member opens My gaps. In English
on a desktop and in Arabic on a 360 px phone."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command

from educap.core.tests.browser.conftest import screenshot
from educap.core.tests.browser.test_journeys import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(transactional_db: None) -> None:
    call_command("seed_demo", "--staff", "400", "--seed", "7", "--quiet")
    call_command("rebuild_gaps")


def _use_language(page, live_server, language: str) -> None:
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )


def _no_page_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize(("language", "phone"), [("en", False), ("ar", True)])
def test_central_officer_drills_from_ministry_to_school(
    page, phone_page, live_server, demo, language, phone
):
    browser_page = phone_page if phone else page
    login(browser_page, live_server, "central")
    _use_language(browser_page, live_server, language)
    browser_page.goto(f"{live_server.url}/gaps/")
    assert browser_page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
    names = []
    for depth in range(3):  # ministry -> governorate -> district -> school
        heat = browser_page.locator("#heat-map")
        assert heat.is_visible()
        assert heat.locator("caption").count() == 1
        assert heat.locator("tbody tr.heat-total td.heat-cell").count() > 1
        assert _no_page_scroll(browser_page)  # the heat map scrolls inside its box
        names.append(browser_page.locator("#gap-crumbs li").last.inner_text())
        screenshot(browser_page, f"gaps-unit-{language}-{'360' if phone else 'desktop'}-{depth}")
        browser_page.locator("#heat-map tbody th a").first.click()
        browser_page.wait_for_load_state("load")
    # At the school: the crumbs lead back up through every level opened on the way.
    crumbs = browser_page.locator("#gap-crumbs li").all_inner_texts()
    assert crumbs[: len(names)] == names
    assert browser_page.locator("#heat-map tbody tr.heat-total").count() == 1
    screenshot(browser_page, f"gaps-unit-{language}-{'360' if phone else 'desktop'}-school")
    # Back up one level through the breadcrumbs.
    browser_page.locator("#gap-crumbs a").last.click()
    browser_page.wait_for_load_state("load")
    assert browser_page.locator("#gap-crumbs li").last.inner_text() == names[-1]


@pytest.mark.parametrize(("language", "phone"), [("en", False), ("ar", True)])
def test_staff_member_sees_the_radar_of_their_gaps(
    page, phone_page, live_server, demo, language, phone
):
    browser_page = phone_page if phone else page
    login(browser_page, live_server, "staff")
    _use_language(browser_page, live_server, language)
    browser_page.goto(f"{live_server.url}/gaps/mine/")
    radar = browser_page.locator("svg.radar")
    assert radar.is_visible()
    assert radar.locator("title").count() == 1
    assert radar.locator("polygon.radar-required").count() == 1
    assert browser_page.locator("#domain-table tbody tr").count() >= 3
    assert browser_page.locator(".gap-item").count() > 0
    assert _no_page_scroll(browser_page)
    screenshot(browser_page, f"gaps-mine-{language}-{'360' if phone else 'desktop'}")

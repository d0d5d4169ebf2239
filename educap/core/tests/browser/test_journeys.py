"""Main journeys in English and Arabic, as each demo persona."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command

from educap.accounts.models import User
from educap.core.tests.browser.conftest import screenshot
from educap.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(transactional_db: None) -> None:
    call_command("seed_demo", "--staff", "400", "--seed", "7", "--quiet")


def login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", settings.EDUCAP_DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def visible_staff_numbers(page) -> set[str]:
    return set(page.locator("#person-table code").all_inner_texts())


PERSONAS = [
    "admin",
    "central",
    "governorate",
    "district",
    "supervisor",
    "staff",
    "trainer",
    "partner",
]


@pytest.mark.parametrize("username", PERSONAS)
def test_each_persona_logs_in_and_sees_only_their_scope(page, live_server, demo, username):
    login(page, live_server, username)
    assert page.locator("h1").first.inner_text().startswith("Welcome")
    screenshot(page, f"home-{username}")
    user = User.objects.get(username=username)
    response = page.goto(f"{live_server.url}/people/?active=")
    assert response is not None
    nav_has_staff = page.locator("nav a[href='/people/']").count() > 0
    shown = visible_staff_numbers(page)
    if username in ("trainer", "partner"):
        # Only their own record, if they have one: no staff list in the menu.
        assert not nav_has_staff
        own = {user.person.staff_number} if user.person else set()
        assert shown == own
    if username == "staff":
        assert shown == {user.person.staff_number}
    if username == "supervisor":
        reports = set(
            Person.objects.filter(supervisor=user.person).values_list("staff_number", flat=True)
        )
        assert shown == reports | {user.person.staff_number}
    if username in ("district", "governorate"):
        grant_unit = user.grants.get(kind="unit_manager").unit
        units_shown = set(page.locator("#person-table td:nth-child(4) a").all_inner_texts())
        assert shown
        for person in Person.objects.filter(staff_number__in=shown).select_related("unit"):
            assert person.unit.path.startswith(grant_unit.path), units_shown


def test_drill_from_ministry_to_a_school(page, live_server, demo):
    login(page, live_server, "central")
    page.click("nav >> text=Organisation")
    page.wait_for_url("**/org/")
    # Expand ministry -> first governorate -> first district, loading each level on demand.
    for depth in range(3):
        toggle = page.locator(f"ul.unit-tree {'ul ' * depth}> li > button.toggle").first
        toggle.click()
        page.locator(f"ul.unit-tree {'ul ' * (depth + 1)}> li").first.wait_for()
    screenshot(page, "tree-expanded-en")
    school_link = page.locator("ul.unit-tree ul ul ul > li > a").first
    school_name = school_link.inner_text()
    school_link.click()
    page.wait_for_selector("ol.breadcrumb")
    crumbs = page.locator("ol.breadcrumb li").all_inner_texts()
    assert len(crumbs) == 5  # Organisation, ministry, governorate, district, school
    assert crumbs[-1] == school_name
    assert page.locator("#staff-heading").is_visible()
    screenshot(page, "school-en")


def test_arabic_is_right_to_left(page, live_server, demo):
    login(page, live_server, "district")
    page.select_option("#language-select", "ar")
    page.wait_for_load_state("load")
    page.wait_for_selector("html[dir=rtl]")
    assert page.get_attribute("html", "lang") == "ar"
    page.goto(f"{live_server.url}/org/")
    page.locator("ul.unit-tree > li > button.toggle").first.click()
    page.locator("ul.unit-tree ul > li").first.wait_for()
    assert page.get_attribute("html", "dir") == "rtl"
    screenshot(page, "tree-ar")
    page.goto(f"{live_server.url}/people/")
    screenshot(page, "people-ar")
    page.locator("#person-table a").first.click()
    page.wait_for_selector("ol.breadcrumb")
    screenshot(page, "person-ar")


def test_search_units_with_htmx(page, live_server, demo):
    login(page, live_server, "staff")
    page.goto(f"{live_server.url}/org/")
    page.fill("#unit-q", "GOV01-D01")
    page.locator("#unit-search-results a").first.wait_for()
    assert "GOV01-D01" in page.locator("#unit-search-results").inner_text()


def test_phone_layout(phone_page, live_server, demo):
    page = phone_page
    login(page, live_server, "district")
    page.goto(f"{live_server.url}/people/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 380
    screenshot(page, "people-phone")
    page.click(".navbar-toggler")
    page.locator("#nav-main a[href='/org/']").wait_for(state="visible")


def test_browse_the_shipped_framework_in_english_and_arabic(page, live_server, demo):
    login(page, live_server, "staff")
    page.click("nav >> text=Competencies")
    page.wait_for_url("**/frameworks/")
    page.locator("table a").first.click()
    page.wait_for_selector(".framework-tree")
    rows = page.locator(".framework-tree tbody tr").count()
    assert rows >= 13 + 39  # 13 domains and their competencies
    assert page.locator(".framework-tree thead th").count() >= 6  # competency + 5 levels
    screenshot(page, "framework-en")
    page.fill("#item-q", "census")
    # (wait_for_function would evaluate a string, which our Content-Security-Policy forbids)
    for _ in range(50):
        if page.locator(".framework-tree tbody tr").count() < 20:
            break
        page.wait_for_timeout(200)
    assert page.locator(".framework-tree tbody tr").count() < 20
    page.select_option("#language-select", "ar")
    page.wait_for_selector("html[dir=rtl]")
    page.wait_for_selector(".framework-tree")
    arabic = page.locator(".framework-tree tbody").inner_text()
    assert any("\u0600" <= ch <= "\u06ff" for ch in arabic)
    screenshot(page, "framework-ar")


def test_role_requirements_matrix(page, live_server, demo):
    login(page, live_server, "central")
    page.goto(f"{live_server.url}/frameworks/")
    page.locator("table a").first.click()
    page.click("text=Role requirements")
    page.wait_for_selector("table")
    assert page.locator("thead th").count() >= 10
    screenshot(page, "matrix-en")

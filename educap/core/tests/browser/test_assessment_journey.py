"""Assessment journeys: a staff member rates themselves on a phone, in Arabic and in English;
their supervisor rates them on the team screen; the campaign dashboard counts it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from educap.accounts.models import User
from educap.assessments.models import AssignmentKind, Campaign, CampaignStatus, RaterAssignment
from educap.assessments.services import campaign_create, campaign_launch
from educap.core.tests.browser.conftest import htmx_settled, screenshot
from educap.core.tests.browser.test_journeys import login
from educap.frameworks.models import Framework, FrameworkStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(transactional_db: None) -> None:
    call_command("seed_demo", "--staff", "400", "--seed", "7", "--quiet")


def _campaign_for_staff_school(code: str) -> Campaign:
    """An open campaign over the demo staff member's school (self + supervisor ratings)."""
    staff = User.objects.get(username="staff").person
    framework = Framework.objects.filter(status=FrameworkStatus.PUBLISHED).first()
    central = User.objects.get(username="central")
    today = timezone.localdate()
    campaign = campaign_create(
        actor=central,
        target_units=[staff.unit],
        code=code,
        title_en="School self-assessment",
        title_ar="التقييم الذاتي للمدرسة",
        framework=framework,
        opens_on=today - dt.timedelta(days=1),
        closes_on=today + dt.timedelta(days=20),
        collect_self=True,
        collect_supervisor=True,
        supervisor_sees_self=True,
    )
    campaign_launch(actor=central, campaign=campaign)
    return campaign


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _answer_every_competency(page, shot: str) -> int:
    """Walk the rating form choosing the third level each time; returns the number of steps."""
    steps = 0
    while "/review/" not in page.url:
        page.locator(".level-card input[type=radio]").nth(2).check()
        if steps == 0:
            screenshot(page, shot)
            assert _no_horizontal_scroll(page)
        page.click("#save-next")
        page.wait_for_load_state("load")
        steps += 1
        assert steps < 60
    return steps


def _stat(page, name: str) -> int:
    return int(re.sub(r"\D", "", page.inner_text(f"#stat-{name}")) or 0)


def test_self_assessment_in_arabic_on_a_phone_then_supervisor_then_dashboard(
    chromium, phone_page, page, live_server, demo
):
    campaign = _campaign_for_staff_school("AR-JOURNEY")
    staff = User.objects.get(username="staff").person
    page.on("dialog", lambda dialog: dialog.accept())
    phone_page.on("dialog", lambda dialog: dialog.accept())

    # The dashboard before anyone answers.
    login(page, live_server, "central")
    page.goto(f"{live_server.url}/assessments/campaigns/{campaign.code}/")
    before = _stat(page, "submitted")
    invited = _stat(page, "invited")
    assert invited > 0

    # The staff member, on a 360 px phone, in Arabic.
    login(phone_page, live_server, "staff")
    # On a phone the language menu sits in the collapsed navbar: set the cookie it would set.
    phone_page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "ar", "url": live_server.url}]
    )
    phone_page.goto(f"{live_server.url}/assessments/mine/")
    assert phone_page.get_attribute("html", "dir") == "rtl"
    screenshot(phone_page, "assess-mine-ar-360")
    phone_page.locator(".mine-campaign a[href^='/assessments/rate/']").first.click()
    phone_page.wait_for_selector(".level-card")
    steps = _answer_every_competency(phone_page, "assess-rate-form-ar-360")
    assert steps >= 1
    screenshot(phone_page, "assess-review-ar-360")
    phone_page.click("#submit-answers")
    phone_page.wait_for_url("**/assessments/mine/")
    own = RaterAssignment.objects.get(campaign=campaign, ratee=staff, kind=AssignmentKind.SELF)
    assert own.status == "submitted"

    # The supervisor rates them on the team screen (desktop, English).
    supervisor_page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    supervisor_page.on("dialog", lambda dialog: dialog.accept())
    login(supervisor_page, live_server, "supervisor")
    supervisor_page.goto(f"{live_server.url}/assessments/team/{campaign.code}/")
    mine = RaterAssignment.objects.get(
        campaign=campaign, ratee=staff, kind=AssignmentKind.SUPERVISOR
    )
    row = supervisor_page.locator(f"#team-row-{mine.pk}")
    assert row.locator(".self-cell").count() > 0  # the self rating is shown
    count = row.locator("select").count()
    for i in range(count):
        with supervisor_page.expect_response(re.compile(r"/assessments/team/")):
            supervisor_page.locator(f"#team-row-{mine.pk} select").nth(i).select_option("2")
        # The row is swapped in after the response: the next select must be the new one's.
        htmx_settled(supervisor_page)
    supervisor_page.locator(f"#team-row-{mine.pk} button[name=submit]").wait_for()
    screenshot(supervisor_page, "assess-team-en")
    assert _no_horizontal_scroll(supervisor_page)  # the grid scrolls inside its own box
    supervisor_page.locator(f"#team-row-{mine.pk} button[name=submit]").click()
    supervisor_page.locator(f"#team-row-{mine.pk}.is-submitted").wait_for()
    mine.refresh_from_db()
    assert mine.status == "submitted"
    supervisor_page.set_viewport_size({"width": 360, "height": 740})
    supervisor_page.reload()
    screenshot(supervisor_page, "assess-team-360")
    assert _no_horizontal_scroll(supervisor_page)
    supervisor_page.context.close()

    # The dashboard counts both.
    page.reload()
    assert _stat(page, "submitted") == before + 2
    screenshot(page, "assess-dashboard-en")


def test_central_officer_creates_and_launches_then_staff_starts_in_english(
    page, phone_page, live_server, demo
):
    staff = User.objects.get(username="staff").person
    framework = Framework.objects.filter(status=FrameworkStatus.PUBLISHED).first()
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, live_server, "central")
    page.click("nav >> text=Assessments")
    page.click("nav >> text=Campaigns")
    page.wait_for_url("**/assessments/campaigns/")
    page.click("text=New campaign")
    page.fill("#id_code", "EN-JOURNEY")
    page.fill("#id_title_en", "Staff skills 2030")
    page.select_option("#id_framework", str(framework.pk))
    today = timezone.localdate()
    page.fill("#id_opens_on", today.isoformat())
    page.fill("#id_closes_on", (today + dt.timedelta(days=10)).isoformat())
    page.fill("#id_target_units_0", staff.unit.code)
    screenshot(page, "assess-campaign-form-en")
    page.click("main button[type=submit]")
    page.wait_for_url("**/assessments/campaigns/EN-JOURNEY/")
    page.click("text=Launch")
    page.wait_for_url("**/launch/")
    screenshot(page, "assess-launch-confirm-en")
    page.click("#launch-confirm")
    page.wait_for_selector("#launch-result")
    assert Campaign.objects.get(code="EN-JOURNEY").status == CampaignStatus.OPEN

    login(phone_page, live_server, "staff")
    phone_page.goto(f"{live_server.url}/assessments/mine/")
    screenshot(phone_page, "assess-mine-en-360")
    phone_page.locator(".mine-campaign a[href^='/assessments/rate/']").first.click()
    phone_page.wait_for_selector(".level-card")
    total = int(phone_page.inner_text("#rate-position").split()[-1])
    phone_page.locator(".level-card input[type=radio]").nth(1).check()
    screenshot(phone_page, "assess-rate-form-en-360")
    assert _no_horizontal_scroll(phone_page)
    phone_page.click("#save-next")
    phone_page.wait_for_load_state("load")
    if total > 1:
        assert phone_page.inner_text("#rate-position").startswith("2 of")
    own = RaterAssignment.objects.get(
        campaign__code="EN-JOURNEY", ratee=staff, kind=AssignmentKind.SELF
    )
    assert own.status == "started"
    # Coming back resumes at the first unanswered competency.
    phone_page.goto(f"{live_server.url}/assessments/rate/{own.pk}/")
    if total > 1:
        assert phone_page.inner_text("#rate-position").startswith("2 of")

"""Campaign screens: list, form, launch, close, remind, progress dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from educap.assessments.models import Campaign, CampaignStatus, RaterAssignment
from educap.assessments.services import campaign_launch
from educap.assessments.tests.factories import make_campaign, make_published_framework
from educap.core.testing import MiniMinistry, make_levels, make_person, make_unit

pytestmark = pytest.mark.django_db


def client_for(ministry: MiniMinistry, username: str) -> Client:
    client = Client()
    client.force_login(ministry.users[username])
    return client


def _open_campaign(ministry: MiniMinistry, **fields) -> Campaign:
    campaign = make_campaign(ministry, **fields)
    campaign_launch(actor=None, campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def test_managers_see_every_campaign_others_only_theirs(ministry):
    make_campaign(ministry, code="DRAFT-1", title="Draft round")
    _open_campaign(
        ministry, code="OPEN-1", title="Open round", framework=make_published_framework("F2")
    )
    central = client_for(ministry, "central").get(reverse("assessments:campaign_list")).content
    assert b"DRAFT-1" in central
    assert b"OPEN-1" in central
    assert b"New campaign" in central
    teacher = client_for(ministry, "teacher").get(reverse("assessments:campaign_list")).content
    assert b"OPEN-1" in teacher
    assert b"DRAFT-1" not in teacher
    assert b"New campaign" not in teacher


def test_list_search_and_status_filter(ministry):
    make_campaign(ministry, code="ALPHA", title="Alpha round")
    make_campaign(
        ministry, code="BETA", title="Beta round", framework=make_published_framework("F2")
    )
    client = client_for(ministry, "central")
    html = client.get(reverse("assessments:campaign_list"), {"q": "alpha"}).content.decode()
    assert "ALPHA" in html
    assert "BETA" not in html
    html = client.get(reverse("assessments:campaign_list"), {"status": "open"}).content.decode()
    assert "No campaign matches your search." in html


def test_list_queries_do_not_grow_with_campaigns(ministry, django_assert_max_num_queries):
    framework = make_published_framework()
    client = client_for(ministry, "central")
    make_campaign(ministry, code="C-0", framework=framework)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("assessments:campaign_list"))
    for i in range(1, 15):
        make_campaign(ministry, code=f"C-{i}", framework=framework)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("assessments:campaign_list")).content.decode()
    assert "C-14" in html


def _form_data(framework, **extra):
    data = {
        "code": "NEW-1",
        "title_en": "New round",
        "title_ar": "جولة جديدة",
        "framework": framework.pk,
        "opens_on": "2030-01-01",
        "closes_on": "2030-02-01",
        "target_units": ["G1", ""],
        "target_people": "",
        "collect_self": "on",
        "collect_supervisor": "on",
        "peer_count": 3,
        "peer_chooser": "person",
        "test_items_per_competency": 3,
    }
    data.update(extra)
    return data


def test_central_officer_creates_a_campaign(ministry):
    framework = make_published_framework()
    client = client_for(ministry, "central")
    assert client.get(reverse("assessments:campaign_create")).status_code == 200
    teacher_number = ministry.people["g2d1_teacher"].staff_number
    response = client.post(
        reverse("assessments:campaign_create"),
        _form_data(framework, target_people=f" {teacher_number} "),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    campaign = Campaign.objects.get(code="NEW-1")
    assert campaign.title_en == "New round"
    assert campaign.title_ar == "جولة جديدة"
    assert [u.code for u in campaign.target_units.all()] == ["G1"]
    assert [p.staff_number for p in campaign.target_people.all()] == [teacher_number]
    assert campaign.collect_self
    assert campaign.collect_supervisor
    assert not campaign.collect_peer


def test_form_reports_unknown_units_people_and_missing_sources(ministry):
    framework = make_published_framework()
    client = client_for(ministry, "central")
    data = _form_data(framework, target_units=["NOPE"], target_people="X999")
    del data["collect_self"], data["collect_supervisor"]
    html = client.post(reverse("assessments:campaign_create"), data).content.decode()
    assert "No unit has the code NOPE." in html
    assert "No staff member has the number X999." in html
    data = _form_data(framework)
    del data["collect_self"], data["collect_supervisor"]
    html = client.post(reverse("assessments:campaign_create"), data).content.decode()
    assert "Collect at least one source." in html
    assert not Campaign.objects.exists()


def test_only_managers_create_launch_and_close(ministry):
    campaign = make_campaign(ministry)
    for username in ("teacher", "gov1", "head"):
        client = client_for(ministry, username)
        assert client.get(reverse("assessments:campaign_create")).status_code == 403
        assert (
            client.post(reverse("assessments:campaign_launch", args=[campaign.code])).status_code
            == 403
        )
        assert (
            client.post(reverse("assessments:campaign_close", args=[campaign.code])).status_code
            == 403
        )
        assert (
            client.get(reverse("assessments:campaign_edit", args=[campaign.code])).status_code
            == 403
        )
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_launch_confirms_then_reports_the_result(ministry):
    campaign = make_campaign(ministry)
    client = client_for(ministry, "central")
    html = client.get(reverse("assessments:campaign_launch", args=[campaign.code])).content.decode()
    assert "8 people match the target." in html
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    html = client.post(
        reverse("assessments:campaign_launch", args=[campaign.code])
    ).content.decode()
    assert 'id="launch-result"' in html
    assert "People without a supervisor" in html
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.OPEN
    assert RaterAssignment.objects.filter(campaign=campaign).count() == 12


def test_open_campaign_edits_only_closing_date_and_texts(ministry):
    campaign = _open_campaign(ministry)
    client = client_for(ministry, "central")
    html = client.get(reverse("assessments:campaign_edit", args=[campaign.code])).content.decode()
    assert "only its closing date and texts can change" in html
    new_close = campaign.closes_on + dt.timedelta(days=7)
    data = _form_data(
        campaign.framework,
        code="HACKED",
        title_en="Renamed",
        closes_on=new_close.isoformat(),
        target_units=["G2"],
    )
    response = client.post(reverse("assessments:campaign_edit", args=[campaign.code]), data)
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.code == "CAMP-1"  # disabled fields keep their values
    assert campaign.title_en == "Renamed"
    assert campaign.closes_on == new_close
    assert [u.code for u in campaign.target_units.all()] == ["MOE"]


def test_close_and_remind(ministry):
    campaign = _open_campaign(ministry)
    for person in ministry.people.values():
        person.email = f"{person.staff_number}@example.org"
        person.save(update_fields=["email"])
    client = client_for(ministry, "central")
    response = client.post(
        reverse("assessments:campaign_remind", args=[campaign.code]), {"unit": "G1D1"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?unit=G1D1")
    # G1D1 subtree: raters of g1d1_officer (self, supervisor g1_officer), head, teacher.
    assert len(mail.outbox) == 4
    client.post(reverse("assessments:campaign_close", args=[campaign.code]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED


def test_progress_dashboard_drills_down(ministry):
    campaign = _open_campaign(ministry)
    client = client_for(ministry, "central")
    html = client.get(reverse("assessments:campaign_detail", args=[campaign.code])).content.decode()
    assert 'id="stat-invited">12<' in html
    assert "Ministry of Education" in html
    html = client.get(
        reverse("assessments:campaign_detail", args=[campaign.code]), {"unit": "G1"}
    ).content.decode()
    assert "District G1D1" in html
    assert "District G1D2" in html
    assert "Governorate G2" not in html
    assert 'id="progress-crumbs"' in html


def test_unit_manager_starts_at_their_unit_and_cannot_leave_it(ministry):
    campaign = _open_campaign(ministry)
    client = client_for(ministry, "dist")
    html = client.get(reverse("assessments:campaign_detail", args=[campaign.code])).content.decode()
    assert "School G1D1S1" in html
    assert "Governorate G2" not in html
    # G1D1: officer (self + supervisor), head (self + supervisor), teacher (self + supervisor)
    assert 'id="stat-invited">6<' in html
    url = reverse("assessments:campaign_detail", args=[campaign.code])
    assert client.get(url, {"unit": "G2"}).status_code == 403
    assert client.get(url, {"unit": "G1"}).status_code == 403
    assert client.get(url, {"unit": "G1D1S1"}).status_code == 200


def test_staff_see_no_progress(ministry):
    campaign = _open_campaign(ministry)
    client = client_for(ministry, "teacher")
    html = client.get(reverse("assessments:campaign_detail", args=[campaign.code])).content.decode()
    assert "stat-invited" not in html
    url = reverse("assessments:campaign_detail", args=[campaign.code])
    assert client.get(url, {"unit": "G1D1S1"}).status_code == 403


def test_progress_queries_do_not_grow_with_units(ministry, django_assert_max_num_queries):
    campaign = make_campaign(ministry)
    client = client_for(ministry, "central")
    url = reverse("assessments:campaign_detail", args=[campaign.code])
    campaign_launch(actor=None, campaign=campaign)
    with django_assert_max_num_queries(25) as few:
        client.get(url, {"unit": "G1"})
    levels = make_levels()
    g1 = ministry.units["G1"]
    new = Campaign.objects.create(
        code="CAMP-2",
        title="Second",
        framework=campaign.framework,
        opens_on=campaign.opens_on,
        closes_on=campaign.closes_on,
    )
    for i in range(12):
        district = make_unit(f"G1X{i}", levels["district"], g1)
        make_person(district, ministry.people["g1d1_teacher"].role)
    new.target_units.set([g1])
    campaign_launch(actor=None, campaign=new)
    url = reverse("assessments:campaign_detail", args=[new.code])
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url, {"unit": "G1"}).content.decode()
    assert html.count('href="?unit=G1X') == 12

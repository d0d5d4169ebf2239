"""Survey pages: answering section by section, preview, list and aggregate results."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    RaterAssignment,
    SurveyQuestion,
)
from educap.assessments.services import campaign_launch
from educap.assessments.surveys import install_mass_survey
from educap.assessments.tests.factories import make_campaign
from educap.core.testing import MiniMinistry


def client_for(ministry: MiniMinistry, username: str, lang: str = "en") -> Client:
    client = Client()
    client.force_login(ministry.users[username])
    client.cookies["django_language"] = lang
    return client


@pytest.fixture
def campaign(ministry: MiniMinistry):
    campaign = make_campaign(
        ministry,
        collect_self=False,
        collect_supervisor=False,
        collect_survey=True,
        survey=install_mass_survey(),
    )
    campaign_launch(actor=None, campaign=campaign)
    return campaign


def _assignment(ministry, campaign, person="g1d1_teacher") -> RaterAssignment:
    return RaterAssignment.objects.get(
        campaign=campaign, kind=AssignmentKind.SURVEY, rater=ministry.people[person]
    )


def _complete_answers(section_questions) -> dict[str, object]:
    data: dict[str, object] = {}
    for q in section_questions:
        if q.kind in ("single", "multiple"):
            data[f"q{q.pk}"] = q.choices.first().pk
        elif q.kind == "likert":
            data[f"q{q.pk}"] = "4"
        elif q.kind == "number":
            data[f"q{q.pk}"] = "3"
    return data


@pytest.mark.django_db
def test_answering_section_by_section(ministry, campaign) -> None:
    assignment = _assignment(ministry, campaign)
    url = reverse("assessments:survey_answer", kwargs={"pk": assignment.pk})
    assert client_for(ministry, "head").get(url).status_code == 404
    client = client_for(ministry, "teacher")
    first = client.get(url).content.decode()
    assert "Section 1 of 6" in first
    assert "How many years have you worked in your current post?" in first
    sections = list(campaign.survey.sections.order_by("sequence"))
    about = list(SurveyQuestion.objects.filter(section=sections[0]))
    # An out-of-range number is shown back with its message; nothing moves on.
    years = next(q for q in about if q.code == "years_in_post")
    bad = client.post(url, {"section": 1, "action": "next", f"q{years.pk}": "99"})
    assert bad.status_code == 200
    assert "Enter a number from 0 to 50." in bad.content.decode()
    # Save a draft, then move on; the draft is shown again on return.
    client.post(url, {"section": 1, "action": "save", f"q{years.pk}": "7"})
    assert 'value="7"' in client.get(url, {"section": 1}).content.decode()
    for n, section in enumerate(sections, 1):
        data = _complete_answers(SurveyQuestion.objects.filter(section=section))
        action = "submit" if n == len(sections) else "next"
        response = client.post(url, {"section": n, "action": action, **data})
        assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SUBMITTED
    assert "submitted" in client.get(url).content.decode()


@pytest.mark.django_db
def test_submit_with_missing_answers_goes_to_the_section(ministry, campaign) -> None:
    assignment = _assignment(ministry, campaign)
    url = reverse("assessments:survey_answer", kwargs={"pk": assignment.pk})
    client = client_for(ministry, "teacher")
    response = client.post(url, {"section": 6, "action": "submit"})
    assert response.status_code == 302
    assert "section=1" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "This question needs an answer." in page


@pytest.mark.django_db
def test_survey_page_in_arabic_and_lao(ministry, campaign) -> None:
    url = reverse("assessments:survey_answer", kwargs={"pk": _assignment(ministry, campaign).pk})
    arabic = client_for(ministry, "teacher", "ar").get(url, {"section": 2}).content.decode()
    assert 'dir="rtl"' in arabic
    assert "أستطيع إعداد خطة لتحسين المدرسة" in arabic
    lao = client_for(ministry, "teacher", "lo").get(url, {"section": 2}).content.decode()
    assert "ການຄຸ້ມຄອງໂດຍອີງໃສ່ໂຮງຮຽນ" in lao


@pytest.mark.django_db
def test_manager_pages_list_preview_and_results(
    ministry, campaign, django_assert_max_num_queries
) -> None:
    client = client_for(ministry, "central")
    assert (
        client_for(ministry, "teacher").get(reverse("assessments:survey_list")).status_code == 403
    )
    with django_assert_max_num_queries(10):
        listing = client.get(reverse("assessments:survey_list"))
    assert "Management and Administration Skills Survey" in listing.content.decode()
    preview = client.get(reverse("assessments:survey_detail", kwargs={"code": "MASS"}))
    text = preview.content.decode()
    assert "IT and computer skills" in text
    assert "disabled" in text
    # One submitted response, then the aggregates.
    assignment = _assignment(ministry, campaign)
    answer_url = reverse("assessments:survey_answer", kwargs={"pk": assignment.pk})
    teacher = client_for(ministry, "teacher")
    sections = list(campaign.survey.sections.order_by("sequence"))
    for n, section in enumerate(sections, 1):
        data = _complete_answers(SurveyQuestion.objects.filter(section=section))
        teacher.post(answer_url, {"section": n, "action": "submit" if n == 6 else "next", **data})
    results_url = reverse("assessments:survey_results", kwargs={"code": campaign.code})
    with django_assert_max_num_queries(20):
        results = client.get(results_url)
    text = results.content.decode()
    assert "1 of" in text
    assert "mean 4.0" in text
    assert client_for(ministry, "teacher").get(results_url).status_code == 403

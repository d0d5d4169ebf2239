"""Item bank pages and taking a test in the browser (server side)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from educap.assessments.io.item_bank import COLUMNS, serialise_csv
from educap.assessments.knowledge import ChoiceInput, TestItemInput, test_item_create
from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    CutScore,
    RaterAssignment,
    TestAttempt,
    TestItem,
)
from educap.assessments.services import campaign_launch
from educap.assessments.tests.factories import make_campaign
from educap.core.testing import MiniMinistry
from educap.frameworks.models import FrameworkItem


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
        collect_test=True,
        test_items_per_competency=2,
        test_time_limit_minutes=20,
    )
    campaign_launch(actor=None, campaign=campaign)
    d11 = FrameworkItem.objects.get(framework=campaign.framework, code="D1.1")
    test_item_create(
        actor=None,
        data=TestItemInput(
            code="S1",
            competency=d11,
            kind="single",
            stem={"en": "Pick the right one", "ar": "اختر الصحيح"},
            choices=[
                ChoiceInput({"en": "Right answer", "ar": "صحيح"}, True),
                ChoiceInput({"en": "Wrong answer", "ar": "خطأ"}),
            ],
        ),
    )
    test_item_create(
        actor=None,
        data=TestItemInput(
            code="TF1",
            competency=d11,
            kind="true_false",
            stem={"en": "Sky is blue"},
            true_false_answer=True,
        ),
    )
    return campaign


def _test_assignment(ministry, campaign) -> RaterAssignment:
    return RaterAssignment.objects.get(
        campaign=campaign, kind=AssignmentKind.TEST, rater=ministry.people["g1d1_teacher"]
    )


@pytest.mark.django_db
def test_item_bank_list_filters_and_is_for_managers(
    ministry, campaign, django_assert_max_num_queries
) -> None:
    url = reverse("assessments:itembank_list")
    assert client_for(ministry, "teacher").get(url).status_code == 403
    client = client_for(ministry, "central")
    for n in range(30):
        test_item_create(
            actor=None,
            data=TestItemInput(
                code=f"N{n:02d}",
                competency=FrameworkItem.objects.get(framework=campaign.framework, code="D2.1"),
                kind="numeric",
                stem={"en": f"Number question {n}"},
                numeric_answer=n,
            ),
        )
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Page 1 of 2" in text
    text = client.get(url, {"kind": "true_false"}).content.decode()
    assert "Sky is blue" in text
    assert "Pick the right one" not in text
    text = client.get(url, {"q": "right one"}).content.decode()
    assert "Pick the right one" in text
    assert "Sky is blue" not in text


@pytest.mark.django_db
def test_export_then_import_preview_and_confirm(ministry, campaign) -> None:
    client = client_for(ministry, "central")
    exported = client.get(reverse("assessments:itembank_export", args=["csv"]))
    assert exported.status_code == 200
    assert b"Pick the right one" in exported.content
    xlsx = client.get(reverse("assessments:itembank_export", args=["xlsx"]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    csv_text = exported.content.decode("utf-8-sig").replace("Sky is blue", "Sky is azure")
    csv_text += "NEW1,EMIS-T,1.0,D1.2,true_false,New statement,,,,,,,,true,,,,,,yes\n"
    upload = SimpleUploadedFile("bank.csv", csv_text.encode())
    preview = client.post(reverse("assessments:itembank_import"), {"file": upload})
    assert preview.status_code == 200
    assert "1 new questions, 2 to update." in preview.content.decode()
    assert TestItem.objects.count() == 2
    token = preview.context["token"]
    done = client.post(
        reverse("assessments:itembank_import"), {"token": token, "action": "confirm"}
    )
    assert done.status_code == 302
    assert TestItem.objects.count() == 3
    assert TestItem.objects.get(code="TF1").stem_en == "Sky is azure"
    # A file with problems shows them and stages nothing.
    bad = SimpleUploadedFile(
        "bad.csv",
        serialise_csv([]) + b"X,EMIS-T,1.0,D1.2,oops,S" + b"," * (len(COLUMNS) - 6) + b"\n",
    )
    response = client.post(reverse("assessments:itembank_import"), {"file": bad})
    assert "token" not in response.context
    assert response.context["problems"]


@pytest.mark.django_db
def test_cut_score_editor(ministry, campaign) -> None:
    d11 = FrameworkItem.objects.get(framework=campaign.framework, code="D1.1")
    url = reverse("assessments:itembank_cut_scores", args=[d11.pk])
    client = client_for(ministry, "central")
    assert "equal bands" in client.get(url).content.decode()
    response = client.post(url, {"level_1": "40", "level_2": "30"})
    assert response.status_code == 200
    assert "must be above" in response.content.decode()
    assert not CutScore.objects.exists()
    assert client.post(url, {"level_1": "30", "level_2": "60", "level_4": "90"}).status_code == 302
    assert CutScore.objects.filter(competency=d11).count() == 3
    assert client_for(ministry, "teacher").get(url).status_code == 403


@pytest.mark.django_db
def test_taking_a_test_from_start_to_result(ministry, campaign) -> None:
    assignment = _test_assignment(ministry, campaign)
    url = reverse("assessments:test_take", kwargs={"pk": assignment.pk})
    # Only the rater may open it.
    assert client_for(ministry, "head").get(url).status_code == 404
    client = client_for(ministry, "teacher")
    intro = client.get(url).content.decode()
    assert "Start the test" in intro
    assert "20 minutes" in intro
    response = client.post(url, {"action": "start"})
    assert response.status_code == 302
    attempt = TestAttempt.objects.get(assignment=assignment)
    assert len(attempt.item_ids) == 2
    page = client.get(url, {"q": 1}).content.decode()
    assert "Question 1 of 2" in page
    assert "test-countdown" in page
    assert "correct" not in page.lower()  # no answer key before submitting
    for position, item_id in enumerate(attempt.item_ids, 1):
        item = TestItem.objects.get(pk=item_id)
        answer = "true" if item.kind == "true_false" else item.choices.get(is_correct=True).pk
        client.post(url, {"q": position, "answer": answer, "action": "next"})
    attempt.refresh_from_db()
    assert len(attempt.answers) == 2
    review = client.get(url, {"q": "review"}).content.decode()
    assert "You answered 2 of 2 questions." in review
    client.post(url, {"action": "submit"})
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SUBMITTED
    result = client.get(url).content.decode()
    assert "100 %" in result
    assert "Expert" in result


@pytest.mark.django_db
def test_question_page_in_arabic_and_time_out(ministry, campaign) -> None:
    assignment = _test_assignment(ministry, campaign)
    url = reverse("assessments:test_take", kwargs={"pk": assignment.pk})
    client = client_for(ministry, "teacher", "ar")
    client.post(url, {"action": "start"})
    attempt = TestAttempt.objects.get(assignment=assignment)
    position = [TestItem.objects.get(pk=i).code for i in attempt.item_ids].index("S1") + 1
    page = client.get(url, {"q": position}).content.decode()
    assert 'dir="rtl"' in page
    assert "اختر الصحيح" in page
    attempt.deadline = attempt.started_at - dt.timedelta(seconds=1)
    attempt.save()
    # The next access submits the attempt with the answers saved so far and shows the result.
    response = client.post(url, {"q": position, "answer": "x", "action": "next"})
    assert response.status_code == 200
    assert response.templates[0].name == "assessments/test_result.html"
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SUBMITTED

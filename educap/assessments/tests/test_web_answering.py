"""Answering screens: my assessments, the rating form, the team grid, peer nomination."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from educap.accounts.models import GrantKind
from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    Campaign,
    DraftRating,
    RaterAssignment,
    Rating,
)
from educap.assessments.selectors import assignment_competencies
from educap.assessments.services import Answer, assignment_submit, campaign_launch
from educap.assessments.tests.factories import make_campaign
from educap.core.testing import MiniMinistry, make_person, make_user

pytestmark = pytest.mark.django_db


def client_for(ministry: MiniMinistry, username: str) -> Client:
    client = Client()
    client.force_login(ministry.users[username])
    return client


def _open(ministry: MiniMinistry, **fields) -> Campaign:
    campaign = make_campaign(ministry, **fields)
    campaign_launch(actor=None, campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def _assignment(ministry, ratee: str, kind: str) -> RaterAssignment:
    return RaterAssignment.objects.get(ratee=ministry.people[ratee], kind=kind)


def test_mine_lists_self_and_team_work(ministry):
    campaign = _open(ministry)
    html = client_for(ministry, "head").get(reverse("assessments:mine")).content.decode()
    assert "Skills assessment" in html
    assert "Rate yourself" in html
    assert "Rate your team" in html
    assert reverse("assessments:team", args=[campaign.code]) in html
    teacher = client_for(ministry, "teacher").get(reverse("assessments:mine")).content.decode()
    assert "Rate yourself" in teacher
    assert "Rate your team" not in teacher


def test_mine_shows_submitted_work_as_done(ministry):
    _open(ministry)
    own = _assignment(ministry, "g1d1_teacher", AssignmentKind.SELF)
    answers = [Answer(c.item.pk, 2) for c in assignment_competencies(assignment=own)]
    assignment_submit(actor=None, assignment=own, answers=answers)
    html = client_for(ministry, "teacher").get(reverse("assessments:mine")).content.decode()
    assert "Rate yourself" not in html
    assert "Done" in html


def test_mine_query_count_is_bounded(ministry, django_assert_max_num_queries):
    _open(ministry)
    client = client_for(ministry, "head")
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("assessments:mine"))
    for i in range(3):
        _open(ministry, code=f"MORE-{i}", framework=Campaign.objects.first().framework)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("assessments:mine")).content.decode()
    assert html.count("Rate yourself") == 4


def test_rating_form_walks_saves_drafts_and_submits(ministry):
    _open(ministry)
    officer = _assignment(ministry, "g1d1_officer", AssignmentKind.SELF)
    client = client_for(ministry, "dist")
    url = reverse("assessments:rate", args=[officer.pk])
    html = client.get(url).content.decode()
    assert "1 of 3" in html
    assert "Competency 1.1" in html
    assert "Domain 1" in html
    assert "D1.1 at level 4" in html  # behavioural indicator on the level card
    assert "Required for the role" in html
    assert 'value="na"' not in html  # no "cannot judge" in a self rating
    # Next without a choice is refused.
    html = client.post(url, {"n": 1, "action": "next"}).content.decode()
    assert "Choose a level to go on." in html
    response = client.post(url, {"n": 1, "action": "next", "level": "3", "comment": "ok"})
    assert response["Location"].endswith("?n=2")
    draft = DraftRating.objects.get(assignment=officer)
    assert draft.level.value == 3
    assert draft.comment == "ok"
    officer.refresh_from_db()
    assert officer.status == AssignmentStatus.STARTED
    # Resume where they left off: the first unanswered competency.
    assert "2 of 3" in client.get(url).content.decode()
    client.post(url, {"n": 2, "action": "next", "level": "2"})
    response = client.post(url, {"n": 3, "action": "next", "level": "4"})
    assert response["Location"] == reverse("assessments:rate_review", args=[officer.pk])
    review = client.get(response["Location"]).content.decode()
    assert "Competency 2.1" in review
    assert "Submit" in review
    response = client.post(reverse("assessments:rate_review", args=[officer.pk]))
    assert response["Location"] == reverse("assessments:mine")
    assert Rating.objects.filter(assignment=officer).count() == 3
    # Submitted forms are closed.
    assert client.get(url)["Location"] == reverse("assessments:mine")


def test_previous_and_jump_do_not_require_an_answer(ministry):
    _open(ministry)
    officer = _assignment(ministry, "g1d1_officer", AssignmentKind.SELF)
    client = client_for(ministry, "dist")
    url = reverse("assessments:rate", args=[officer.pk])
    assert client.post(url, {"n": 2, "action": "prev"})["Location"].endswith("?n=1")
    assert "3 of 3" in client.get(url, {"n": 3}).content.decode()
    assert not DraftRating.objects.exists()


def test_review_refuses_an_incomplete_form(ministry):
    _open(ministry)
    officer = _assignment(ministry, "g1d1_officer", AssignmentKind.SELF)
    client = client_for(ministry, "dist")
    client.post(reverse("assessments:rate", args=[officer.pk]), {"n": 1, "level": "3"})
    html = client.get(reverse("assessments:rate_review", args=[officer.pk])).content.decode()
    assert "2 competencies still need an answer." in html
    response = client.post(reverse("assessments:rate_review", args=[officer.pk]), follow=True)
    assert "still need an answer" in response.content.decode()
    officer.refresh_from_db()
    assert officer.status != AssignmentStatus.SUBMITTED


def test_nobody_else_sees_a_rating_form(ministry):
    _open(ministry)
    own = _assignment(ministry, "g1d1_teacher", AssignmentKind.SELF)
    supervisor = _assignment(ministry, "g1d1_teacher", AssignmentKind.SUPERVISOR)
    for username in ("head", "dist", "central", "admin"):
        client = client_for(ministry, username)
        assert client.get(reverse("assessments:rate", args=[own.pk])).status_code == 404
        assert client.get(reverse("assessments:rate_review", args=[own.pk])).status_code == 404
    teacher = client_for(ministry, "teacher")
    assert teacher.get(reverse("assessments:rate", args=[supervisor.pk])).status_code == 404
    assert (
        teacher.post(reverse("assessments:rate", args=[supervisor.pk]), {"level": "1"}).status_code
        == 404
    )


def test_supervisor_form_offers_cannot_judge_and_shows_the_self_rating(ministry):
    _open(ministry, supervisor_sees_self=True)
    own = _assignment(ministry, "g1d1_teacher", AssignmentKind.SELF)
    assignment_submit(
        actor=None,
        assignment=own,
        answers=[Answer(c.item.pk, 4) for c in assignment_competencies(assignment=own)],
    )
    supervisor = _assignment(ministry, "g1d1_teacher", AssignmentKind.SUPERVISOR)
    client = client_for(ministry, "head")
    url = reverse("assessments:rate", args=[supervisor.pk])
    html = client.get(url).content.decode()
    assert 'value="na"' in html
    assert 'id="self-rating"' in html
    client.post(url, {"n": 1, "action": "next", "level": "na"})
    assert DraftRating.objects.get(assignment=supervisor).level is None


def test_self_rating_hidden_when_campaign_says_so(ministry):
    _open(ministry)
    own = _assignment(ministry, "g1d1_teacher", AssignmentKind.SELF)
    assignment_submit(
        actor=None,
        assignment=own,
        answers=[Answer(c.item.pk, 4) for c in assignment_competencies(assignment=own)],
    )
    supervisor = _assignment(ministry, "g1d1_teacher", AssignmentKind.SUPERVISOR)
    html = client_for(ministry, "head").get(reverse("assessments:rate", args=[supervisor.pk]))
    assert 'id="self-rating"' not in html.content.decode()


def test_rating_form_in_arabic(ministry):
    _open(ministry)
    own = _assignment(ministry, "g1d1_teacher", AssignmentKind.SELF)
    client = client_for(ministry, "teacher")
    client.cookies["django_language"] = "ar"
    html = client.get(reverse("assessments:rate", args=[own.pk])).content.decode()
    assert 'dir="rtl"' in html
    assert "الكفاءة 1.1" in html


def test_team_grid_saves_rows_and_submits_a_person(ministry):
    campaign = _open(ministry, supervisor_sees_self=True)
    row = _assignment(ministry, "g1d1_teacher", AssignmentKind.SUPERVISOR)
    item = assignment_competencies(assignment=row)[0].item
    client = client_for(ministry, "head")
    html = client.get(reverse("assessments:team", args=[campaign.code])).content.decode()
    assert ministry.people["g1d1_teacher"].full_name in html
    assert f'name="a{row.pk}_{item.pk}"' in html
    url = reverse("assessments:team_row", args=[campaign.code, row.pk])
    html = client.post(url, {f"a{row.pk}_{item.pk}": "3"}, HTTP_HX_REQUEST="true").content.decode()
    assert html.startswith("<tr")
    assert "Saved" in html
    assert DraftRating.objects.get(assignment=row).level.value == 3
    assert 'value="' + str(row.pk) + '"' in html  # the submit button once the row is complete
    html = client.post(
        url, {f"a{row.pk}_{item.pk}": "3", "submit": row.pk}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Submitted" in html
    row.refresh_from_db()
    assert row.status == AssignmentStatus.SUBMITTED


def test_team_row_of_someone_else_is_404(ministry):
    campaign = _open(ministry)
    other = _assignment(ministry, "g1d1_head", AssignmentKind.SUPERVISOR)  # rated by dist
    client = client_for(ministry, "head")
    url = reverse("assessments:team_row", args=[campaign.code, other.pk])
    assert client.post(url, {}).status_code == 404
    # A whole-grid post naming another's assignment changes nothing.
    item = assignment_competencies(assignment=other)[0].item
    client.post(reverse("assessments:team", args=[campaign.code]), {f"a{other.pk}_{item.pk}": "2"})
    assert not DraftRating.objects.filter(assignment=other).exists()


def test_team_grid_without_javascript_saves_everything(ministry):
    campaign = _open(ministry)
    row = _assignment(ministry, "g1d1_teacher", AssignmentKind.SUPERVISOR)
    item = assignment_competencies(assignment=row)[0].item
    client = client_for(ministry, "head")
    response = client.post(
        reverse("assessments:team", args=[campaign.code]),
        {f"a{row.pk}_{item.pk}": "2", "submit": row.pk},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == AssignmentStatus.SUBMITTED


def test_team_grid_queries_are_bounded_for_a_team_of_thirty(
    ministry, django_assert_max_num_queries
):
    campaign = make_campaign(ministry)
    head = ministry.people["g1d1_head"]
    school = ministry.units["G1D1S1"]
    officer_role = ministry.people["central"].role
    teacher_role = ministry.people["g1d1_teacher"].role
    for i in range(30):
        make_person(school, officer_role if i % 2 else teacher_role, head)
    campaign_launch(actor=None, campaign=campaign)
    client = client_for(ministry, "head")
    with django_assert_max_num_queries(20):
        html = client.get(reverse("assessments:team", args=[campaign.code])).content.decode()
    assert html.count('class="team-row') == 31


def test_peer_nomination_by_the_person(ministry):
    campaign = _open(ministry, collect_peer=True, peer_count=1)
    client = client_for(ministry, "teacher")
    teacher = ministry.people["g1d1_teacher"]
    html = client.get(reverse("assessments:mine")).content.decode()
    peers_url = reverse("assessments:peers", args=[campaign.code, teacher.pk])
    assert peers_url in html
    # The candidates are in the teacher's school, without the teacher and their supervisor.
    html = client.get(peers_url).content.decode()
    assert "No colleague matches" in html
    colleague = make_person(ministry.units["G1D1S1"], teacher.role, given_name="Amal")
    html = client.get(peers_url, {"q": "amal"}).content.decode()
    assert colleague.staff_number in html
    assert ministry.people["g1d1_head"].staff_number not in html
    client.post(peers_url, {"peers": [colleague.pk]})
    peer = RaterAssignment.objects.get(campaign=campaign, kind=AssignmentKind.PEER)
    assert peer.rater == colleague
    assert peer.ratee == teacher
    assert "All peers are chosen." in client.get(peers_url).content.decode()
    # The peer finds the rating in their list; the teacher never sees the peer's answers.
    peer_user = make_user("amal", colleague, [(GrantKind.STAFF, None)])
    peer_client = Client()
    peer_client.force_login(peer_user)
    html = peer_client.get(reverse("assessments:mine")).content.decode()
    assert "Rate your colleague" in html


def test_peer_page_of_someone_else_is_404(ministry):
    campaign = _open(ministry, collect_peer=True)
    other = ministry.people["g2d1_teacher"]
    client = client_for(ministry, "teacher")
    assert (
        client.get(reverse("assessments:peers", args=[campaign.code, other.pk])).status_code == 404
    )

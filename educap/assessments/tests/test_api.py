from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from educap.assessments.models import (
    AssignmentKind,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    CurrentLevel,
    RaterAssignment,
    Rating,
    Source,
)
from educap.assessments.selectors import assignment_competencies
from educap.assessments.services import (
    Answer,
    EvidenceInput,
    assignment_submit,
    campaign_launch,
    evidence_record,
)
from educap.assessments.tests.factories import make_campaign, make_published_framework
from educap.core.testing import MiniMinistry, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_for(ministry: MiniMinistry):
    def _client(username: str | None) -> APIClient:
        client = APIClient()
        if username is not None:
            client.force_authenticate(ministry.users[username])
        return client

    return _client


@pytest.fixture
def launched(ministry: MiniMinistry) -> Campaign:
    campaign = make_campaign(ministry)
    campaign_launch(actor=None, campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def _own(ministry: MiniMinistry, who: str, kind: str = AssignmentKind.SELF) -> RaterAssignment:
    return RaterAssignment.objects.get(ratee=ministry.people[who], kind=kind)


def _answers(assignment: RaterAssignment, value: int | None) -> list[dict[str, object]]:
    return [
        {"item": c.item.pk, "level": value, "comment": "seen at work"}
        for c in assignment_competencies(assignment=assignment)
    ]


# --- campaigns ---------------------------------------------------------------------------


def test_campaign_list_detail_and_filters(ministry, api_for, launched) -> None:
    make_campaign(ministry, code="DRAFT-1", framework=launched.framework)
    central = api_for("central")
    body = central.get("/api/v1/campaigns/").json()
    assert {r["code"] for r in body["results"]} == {"CAMP-1", "DRAFT-1"}
    rows = central.get("/api/v1/campaigns/?status=open").json()["results"]
    assert [r["code"] for r in rows] == ["CAMP-1"]
    assert central.get("/api/v1/campaigns/?search=draft").json()["count"] == 1
    detail = central.get("/api/v1/campaigns/CAMP-1/").json()
    assert detail["target_units"] == ["MOE"]
    assert detail["kinds"] == ["self", "supervisor"]
    assert detail["framework"]["code"] == "EMIS-T"
    # Staff see the launched campaigns they rate in, never drafts.
    rows = api_for("teacher").get("/api/v1/campaigns/").json()["results"]
    assert [r["code"] for r in rows] == ["CAMP-1"]
    assert api_for("teacher").get("/api/v1/campaigns/DRAFT-1/").json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("admin", 200),
        ("central", 200),
        ("gov1", 200),
        ("dist", 200),
        ("head", 200),
        ("teacher", 200),
        ("partner", 200),
        ("trainer", 200),
        (None, 401),
    ],
)
def test_campaign_list_for_each_persona(ministry, api_for, launched, username, expected) -> None:
    response = api_for(username).get("/api/v1/campaigns/")
    assert response.status_code == expected
    if expected == 200:
        codes = {r["code"] for r in response.json()["results"]}
        # The trainer takes no part and manages no unit: nothing to see.
        assert codes == (set() if username == "trainer" else {"CAMP-1"})
    else:
        assert response.json()["code"] == "not_authenticated"


def test_token_authentication(ministry, launched) -> None:
    token = Token.objects.create(user=ministry.users["teacher"])
    client = APIClient()
    response = client.get("/api/v1/rater-assignments/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_managers_create_update_launch_remind_and_close(ministry, api_for) -> None:
    framework = make_published_framework()
    today = timezone.localdate()
    payload = {
        "code": "API-1",
        "title_en": "Data skills 2026",
        "title_ar": "مهارات البيانات",
        "framework": framework.pk,
        "opens_on": today.isoformat(),
        "closes_on": (today + dt.timedelta(days=20)).isoformat(),
        "collect_supervisor": False,
        "target_units": ["G1"],
    }
    central = api_for("central")
    refused = api_for("dist").post("/api/v1/campaigns/", payload, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "campaign_not_allowed")
    created = central.post("/api/v1/campaigns/", payload, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "draft"
    assert created.json()["target_units"] == ["G1"]
    bad = central.post(
        "/api/v1/campaigns/", {**payload, "code": "API-2", "closes_on": "2000-01-01"}
    )
    assert (bad.status_code, bad.json()["field"]) == (400, "closes_on")

    changed = central.patch(
        "/api/v1/campaigns/API-1/", {"title_en": "Data skills", "collect_test": False}
    )
    assert changed.status_code == 200
    assert changed.json()["title_en"] == "Data skills"

    launched = central.post("/api/v1/campaigns/API-1/launch/").json()
    # G1 subtree: g1_officer, g1d1_officer, g1d1_head, g1d1_teacher, g1d2_teacher.
    assert (launched["people"], launched["assignments"]) == (5, 5)
    assert launched["campaign"]["status"] == "open"
    again = central.post("/api/v1/campaigns/API-1/launch/")
    assert (again.status_code, again.json()["code"]) == (400, "campaign_not_draft")
    frozen = central.patch("/api/v1/campaigns/API-1/", {"target_units": ["G2"]}, format="json")
    assert (frozen.status_code, frozen.json()["code"]) == (400, "campaign_not_draft")

    for person in RaterAssignment.objects.values_list("rater", flat=True):
        from educap.people.models import Person

        Person.objects.filter(pk=person).update(email=f"p{person}@example.org")
    sent = central.post("/api/v1/campaigns/API-1/remind/", {"unit": "G1D1"}, format="json")
    assert sent.json() == {"sent": 3}
    assert len(mail.outbox) == 3
    refused = api_for("dist").post("/api/v1/campaigns/API-1/close/")
    assert (refused.status_code, refused.json()["code"]) == (403, "campaign_not_allowed")
    closed = central.post("/api/v1/campaigns/API-1/close/")
    assert closed.json()["status"] == CampaignStatus.CLOSED


def test_progress_totals_and_children(ministry, api_for, launched) -> None:
    own = _own(ministry, "g1d1_teacher")
    assignment_submit(
        actor=None,
        assignment=own,
        answers=[Answer(c.item.pk, 2) for c in assignment_competencies(assignment=own)],
    )
    body = api_for("central").get("/api/v1/campaigns/CAMP-1/progress/?unit=G1").json()
    assert body["total"]["invited"] == 5 + 3  # five self ratings, three supervisor ratings
    assert body["total"]["submitted"] == 1
    assert body["total"]["by_kind"]["self"] == {"invited": 5, "submitted": 1}
    units = [row["unit"]["code"] for row in body["children"]]
    assert set(units) == {"G1D1", "G1D2"}
    assert body["children"][-1]["unit"]["code"] == "G1D1"  # furthest ahead last
    whole = api_for("central").get("/api/v1/campaigns/CAMP-1/progress/").json()
    assert whole["total"]["invited"] == 12
    # A unit manager sees their subtree, not another one; a partner sees aggregates.
    assert api_for("dist").get("/api/v1/campaigns/CAMP-1/progress/?unit=G1D1").status_code == 200
    other = api_for("dist").get("/api/v1/campaigns/CAMP-1/progress/?unit=G2")
    assert (other.status_code, other.json()["code"]) == (403, "campaign_not_allowed")
    assert api_for("partner").get("/api/v1/campaigns/CAMP-1/progress/?unit=G2").status_code == 200
    assert api_for("teacher").get("/api/v1/campaigns/CAMP-1/progress/").status_code == 403
    missing = api_for("central").get("/api/v1/campaigns/CAMP-1/progress/?unit=NOPE")
    assert missing.status_code == 404


# --- answering ---------------------------------------------------------------------------


def test_rater_saves_drafts_then_submits_and_a_current_level_appears(
    ministry, api_for, launched
) -> None:
    teacher = api_for("teacher")
    mine = teacher.get("/api/v1/rater-assignments/").json()["results"]
    assert [(r["kind"], r["ratee"]["id"]) for r in mine] == [
        ("self", ministry.people["g1d1_teacher"].pk)
    ]
    url = f"/api/v1/rater-assignments/{mine[0]['id']}/"
    detail = teacher.get(url).json()
    assert [c["code"] for c in detail["competencies"]] == ["D1.1"]
    competency = detail["competencies"][0]
    assert competency["required_level"] == 2
    assert competency["indicators"]["3"] == "D1.1 at level 3"
    assert detail["drafts"] == []

    answer = {"item": competency["item"], "level": 3, "comment": "", "evidence": "report"}
    saved = teacher.put(url + "responses/", {"answers": [answer]}, format="json")
    assert saved.status_code == 200, saved.json()
    assert saved.json() == [
        {"item": competency["item"], "level": 3, "comment": "", "evidence": "report"}
    ]
    assert teacher.get(url).json()["status"] == AssignmentStatus.STARTED
    assert not CurrentLevel.objects.exists()

    submitted = teacher.post(url + "submit/", {}, format="json")
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["ratings"] == 1
    assert submitted.json()["assignment"]["status"] == "submitted"
    level = CurrentLevel.objects.get(person=ministry.people["g1d1_teacher"])
    assert (level.value, level.source) == (3, Source.SELF)
    levels = teacher.get(f"/api/v1/people/{ministry.people['g1d1_teacher'].pk}/current-levels/")
    assert [(row["item_code"], row["value"]) for row in levels.json()] == [("D1.1", 3)]

    again = teacher.post(url + "submit/", {}, format="json")
    assert (again.status_code, again.json()["code"]) == (400, "assignment_closed")


def test_supervisor_submits_with_answers_in_the_body(ministry, api_for, launched) -> None:
    head = api_for("head")
    rows = head.get("/api/v1/rater-assignments/?kind=supervisor").json()["results"]
    assert [r["ratee"]["id"] for r in rows] == [ministry.people["g1d1_teacher"].pk]
    boss = _own(ministry, "g1d1_teacher", AssignmentKind.SUPERVISOR)
    response = head.post(
        f"/api/v1/rater-assignments/{boss.pk}/submit/",
        {"answers": _answers(boss, 2)},
        format="json",
    )
    assert response.status_code == 200, response.json()
    level = CurrentLevel.objects.get(person=ministry.people["g1d1_teacher"])
    assert (level.value, level.source) == (2, Source.SUPERVISOR)


def test_answer_errors_have_codes(ministry, api_for, launched) -> None:
    dist = api_for("dist")
    own = _own(ministry, "g1d1_officer")
    url = f"/api/v1/rater-assignments/{own.pk}/"
    first = _answers(own, 3)[:1]
    incomplete = dist.post(url + "submit/", {"answers": first}, format="json")
    assert (incomplete.status_code, incomplete.json()["code"]) == (400, "assignment_incomplete")
    off_scale = dist.put(url + "responses/", {"answers": _answers(own, 9)[:1]}, format="json")
    body = off_scale.json()
    assert (off_scale.status_code, body["code"], body["field"]) == (
        400,
        "level_not_on_scale",
        "level",
    )
    unknown = dist.put(
        url + "responses/", {"answers": [{"item": 999999, "level": 1}]}, format="json"
    )
    assert unknown.json()["code"] == "competency_not_in_assignment"
    missing_level = dist.put(url + "responses/", {"answers": [{"item": 1}]}, format="json")
    assert (missing_level.status_code, missing_level.json()["field"]) == (400, "level")
    # Somebody else's assignment does not exist for the caller.
    for username in ("teacher", "head", "central", "admin"):
        response = api_for(username).put(url + "responses/", {"answers": first}, format="json")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert api_for(None).get(url).status_code == 401
    # A closed campaign takes no more answers.
    Campaign.objects.filter(pk=launched.pk).update(status=CampaignStatus.CLOSED)
    closed = dist.put(url + "responses/", {"answers": first}, format="json")
    assert (closed.status_code, closed.json()["code"]) == (400, "assignment_closed")


def test_cannot_judge_is_saved_but_gives_no_rating(ministry, api_for, launched) -> None:
    dist = api_for("dist")
    own = _own(ministry, "g1d1_officer")
    answers = _answers(own, 3)
    answers[0]["level"] = None
    response = dist.post(
        f"/api/v1/rater-assignments/{own.pk}/submit/", {"answers": answers}, format="json"
    )
    assert response.json()["ratings"] == len(answers) - 1


def test_assignment_filters(ministry, api_for, launched) -> None:
    head = api_for("head")
    assert head.get("/api/v1/rater-assignments/").json()["count"] == 2
    assert head.get("/api/v1/rater-assignments/?kind=self").json()["count"] == 1
    assert head.get("/api/v1/rater-assignments/?campaign=CAMP-1").json()["count"] == 2
    assert head.get("/api/v1/rater-assignments/?campaign=OTHER").json()["count"] == 0
    assert head.get("/api/v1/rater-assignments/?status=submitted").json()["count"] == 0
    assert api_for("partner").get("/api/v1/rater-assignments/").json()["count"] == 0


# --- evidence ----------------------------------------------------------------------------


def _peer_rated_teacher(ministry: MiniMinistry, launched: Campaign) -> None:
    item = assignment_competencies(assignment=_own(ministry, "g1d1_teacher"))[0].item
    now = timezone.now()
    teacher = ministry.people["g1d1_teacher"]
    evidence_record(
        actor=None,
        evidence=[
            EvidenceInput(
                teacher.pk, item.pk, Source.PEER, 3, now, ministry.people["g1d2_teacher"].pk
            ),
            EvidenceInput(
                teacher.pk, item.pk, Source.SUPERVISOR, 2, now, ministry.people["g1d1_head"].pk
            ),
            EvidenceInput(
                ministry.people["g2d1_teacher"].pk,
                item.pk,
                Source.SELF,
                1,
                now,
                ministry.people["g2d1_teacher"].pk,
                launched.pk,
            ),
        ],
    )


@pytest.mark.parametrize(
    ("username", "people"),
    [
        ("admin", {"g1d1_teacher", "g2d1_teacher"}),
        ("central", {"g1d1_teacher", "g2d1_teacher"}),
        ("gov1", {"g1d1_teacher"}),
        ("dist", {"g1d1_teacher"}),
        ("head", {"g1d1_teacher"}),
        ("teacher", {"g1d1_teacher"}),
        ("partner", set()),
        ("trainer", set()),
    ],
)
def test_ratings_are_scoped_for_each_persona(ministry, api_for, launched, username, people):
    _peer_rated_teacher(ministry, launched)
    rows = api_for(username).get("/api/v1/ratings/").json()["results"]
    names = {who for who, p in ministry.people.items() if p.pk in {r["person"] for r in rows}}
    assert names == people


def test_the_person_rated_never_sees_peer_raters(ministry, api_for, launched) -> None:
    _peer_rated_teacher(ministry, launched)
    teacher_pk = ministry.people["g1d1_teacher"].pk
    own = api_for("teacher").get(f"/api/v1/ratings/?person={teacher_pk}").json()["results"]
    raters = {r["source"]: r["rater"] for r in own}
    assert raters == {"peer": None, "supervisor": ministry.people["g1d1_head"].pk}
    seen_by_head = api_for("head").get("/api/v1/ratings/?source=peer").json()["results"]
    assert [r["rater"] for r in seen_by_head] == [ministry.people["g1d2_teacher"].pk]
    by_campaign = api_for("central").get("/api/v1/ratings/?campaign=CAMP-1").json()
    assert [r["person"] for r in by_campaign["results"]] == [ministry.people["g2d1_teacher"].pk]
    assert api_for(None).get("/api/v1/ratings/").status_code == 401


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("admin", 200),
        ("central", 200),
        ("gov1", 200),
        ("dist", 200),
        ("head", 200),
        ("teacher", 200),
        ("partner", 404),
        ("trainer", 404),
        (None, 401),
    ],
)
def test_current_levels_for_each_persona(ministry, api_for, launched, username, expected):
    _peer_rated_teacher(ministry, launched)
    url = f"/api/v1/people/{ministry.people['g1d1_teacher'].pk}/current-levels/"
    response = api_for(username).get(url)
    assert response.status_code == expected
    if expected == 200:
        assert [(r["value"], r["source"]) for r in response.json()] == [(2, "supervisor")]
    other = f"/api/v1/people/{ministry.people['g2d1_teacher'].pk}/current-levels/"
    if username in ("gov1", "dist", "head", "teacher"):
        assert api_for(username).get(other).status_code == 404


# --- query counts ------------------------------------------------------------------------


def test_campaign_list_query_count(ministry, api_for, django_assert_max_num_queries) -> None:
    framework = make_published_framework()
    for n in range(12):
        campaign = make_campaign(ministry, code=f"C-{n}", framework=framework)
        campaign_launch(actor=None, campaign=campaign)
    for username in ("central", "teacher"):
        client = api_for(username)
        with django_assert_max_num_queries(6):
            assert client.get("/api/v1/campaigns/").json()["count"] == 12


def test_assignment_list_query_count(ministry, api_for, django_assert_max_num_queries) -> None:
    framework = make_published_framework()
    head = ministry.people["g1d1_head"]
    for _ in range(15):
        make_person(ministry.units["G1D1S1"], supervisor=head)
    for n in range(3):
        campaign = make_campaign(ministry, code=f"C-{n}", framework=framework)
        campaign_launch(actor=None, campaign=campaign)
    client = api_for("head")
    with django_assert_max_num_queries(6):
        body = client.get("/api/v1/rater-assignments/?page_size=100").json()
    assert body["count"] == 3 * (1 + 16)


def test_rating_list_query_count(
    ministry, api_for, launched, django_assert_max_num_queries
) -> None:
    items = [c.item for c in assignment_competencies(assignment=_own(ministry, "g1d1_officer"))]
    now = timezone.now()
    evidence_record(
        actor=None,
        evidence=[
            EvidenceInput(p.pk, item.pk, source, 2, now, None, launched.pk)
            for p in ministry.people.values()
            for item in items
            for source in (Source.SELF, Source.PEER)
        ],
    )
    assert Rating.objects.count() == 8 * 3 * 2
    for username in ("central", "teacher"):
        with django_assert_max_num_queries(6):
            assert api_for(username).get("/api/v1/ratings/?page_size=100").status_code == 200
    with django_assert_max_num_queries(6):
        url = f"/api/v1/people/{ministry.people['g1d1_officer'].pk}/current-levels/"
        assert len(api_for("central").get(url).json()) == 3


def test_assignment_detail_query_count(
    ministry, api_for, launched, django_assert_max_num_queries
) -> None:
    own = _own(ministry, "g1d1_officer")
    with django_assert_max_num_queries(12):
        body = api_for("dist").get(f"/api/v1/rater-assignments/{own.pk}/").json()
    assert len(body["competencies"]) == 3

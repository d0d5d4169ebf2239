"""Sessions and enrolments over the API: scoped lists, create/update, enrolment routes and
decisions, attendance grid and marks, completion, errors with codes, the OpenAPI schema."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from educap.core.testing import MiniMinistry, make_person
from educap.frameworks.models import Framework
from educap.training.models import Enrolment, EnrolmentStatus, SessionStatus, TrainingSession
from educap.training.tests.factories import make_course, make_enrolment, make_session
from educap.training.tests.test_sessions_services import framework, item_of, rate

pytestmark = pytest.mark.django_db
__all__ = ["framework"]

SESSIONS = "/api/v1/training-sessions/"
ENROLMENTS = "/api/v1/enrolments/"


def api(ministry: MiniMinistry, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(ministry.users[username])
    return client


def test_list_is_scoped_and_filtered(ministry: MiniMinistry) -> None:
    course = make_course()
    make_session(course, ministry.units["G1D1"], code="S-A", status=SessionStatus.PLANNED)
    make_session(course, ministry.units["G2D1"], code="S-B", status=SessionStatus.RUNNING)
    codes = {s["code"] for s in api(ministry, "central").get(SESSIONS).json()["results"]}
    assert codes == {"S-A", "S-B"}
    codes = {s["code"] for s in api(ministry, "dist").get(SESSIONS).json()["results"]}
    assert codes == {"S-A"}
    assert api(ministry, "teacher").get(SESSIONS).json()["results"] == []
    found = api(ministry, "central").get(SESSIONS, {"status": "running"}).json()["results"]
    assert [s["code"] for s in found] == ["S-B"]
    assert api(ministry, "dist").get(f"{SESSIONS}S-B/").status_code == 404


def test_list_queries_do_not_grow(ministry: MiniMinistry, django_assert_max_num_queries) -> None:
    client = api(ministry, "gov1")
    course = make_course()
    make_session(course, ministry.units["G1D1"], code="S-0")
    with django_assert_max_num_queries(15) as few:
        client.get(SESSIONS)
    for n in range(1, 15):
        make_enrolment(
            make_session(course, ministry.units["G1D1"], code=f"S-{n}"),
            make_person(ministry.units["G1D1S1"]),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(SESSIONS).json()["results"]) == 15


def test_create_update_and_errors(ministry: MiniMinistry) -> None:
    make_course()
    body = {
        "course": "C-DQ1",
        "unit": "G1D1",
        "starts_on": "2027-05-03",
        "ends_on": "2027-05-04",
        "capacity": 8,
        "facilitators": [ministry.people["g1d2_teacher"].staff_number],
        "days": [{"date": "2027-05-03", "starts_at": "09:00", "topic": "Opening"}],
    }
    created = api(ministry, "dist").post(SESSIONS, body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["code"] == "C-DQ1-2705"
    assert data["status"] == "planned"
    assert data["days"] == [
        {"date": "2027-05-03", "starts_at": "09:00:00", "ends_at": None, "topic": "Opening"}
    ]
    assert data["facilitators"] == [ministry.people["g1d2_teacher"].staff_number]
    refused = api(ministry, "dist").post(SESSIONS, {**body, "unit": "G2D1"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "session_unit_out_of_scope"
    assert refused.json()["field"] == "unit"
    changed = api(ministry, "dist").patch(f"{SESSIONS}C-DQ1-2705/", {"capacity": 20}, format="json")
    assert changed.json()["capacity"] == 20
    moved = api(ministry, "dist").post(
        f"{SESSIONS}C-DQ1-2705/transition/", {"status": "running"}, format="json"
    )
    assert moved.status_code == 400
    assert moved.json()["code"] == "session_bad_transition"


def test_enrolment_routes_and_decisions(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], capacity=1)
    own = api(ministry, "teacher").post(ENROLMENTS, {"session": session.code}, format="json")
    assert own.status_code == 201
    assert own.json()["status"] == "requested"
    assert own.json()["route"] == "self"
    pk = own.json()["id"]
    assert api(ministry, "teacher").post(f"{ENROLMENTS}{pk}/approve/").status_code == 403
    approved = api(ministry, "head").post(f"{ENROLMENTS}{pk}/approve/")
    assert approved.json()["status"] == "enrolled"
    # The district officer nominates the head: the session is full, so the waitlist.
    nominated = api(ministry, "dist").post(
        ENROLMENTS,
        {"session": session.code, "person": ministry.people["g1d1_head"].pk},
        format="json",
    )
    assert nominated.json()["status"] == "waitlisted"
    again = api(ministry, "dist").post(
        ENROLMENTS,
        {"session": session.code, "person": ministry.people["g1d1_head"].pk},
        format="json",
    )
    assert again.json()["code"] == "enrolment_exists"
    # The teacher withdraws; the head takes the seat.
    assert api(ministry, "teacher").post(f"{ENROLMENTS}{pk}/withdraw/").status_code == 200
    head = Enrolment.objects.get(person=ministry.people["g1d1_head"])
    assert head.status == EnrolmentStatus.ENROLLED
    # Scoped list: the teacher sees their own enrolment only.
    mine = api(ministry, "teacher").get(ENROLMENTS).json()["results"]
    assert [e["id"] for e in mine] == [pk]
    assert len(api(ministry, "dist").get(ENROLMENTS, {"session": session.code}).json()["results"])
    outsider = api(ministry, "dist").post(
        ENROLMENTS,
        {"session": session.code, "person": ministry.people["g2d1_teacher"].pk},
        format="json",
    )
    assert outsider.status_code == 403
    assert outsider.json()["code"] == "session_not_allowed"


def test_enrol_from_needs(ministry: MiniMinistry, framework: Framework) -> None:
    d12 = item_of(framework, "D1.2")
    rate(ministry.people["g1d1_officer"], d12, 1)
    session = make_session(make_course(), ministry.units["G1"])
    response = api(ministry, "gov1").post(
        f"{SESSIONS}{session.code}/enrol-from-needs/",
        {"unit": "G1", "item": d12.pk},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert [e["person"] for e in response.json()["enrolled"]] == [
        ministry.people["g1d1_officer"].pk
    ]


def test_attendance_grid_marks_and_completion(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], status=SessionStatus.RUNNING)
    enrolment = make_enrolment(session, ministry.people["g1d1_head"])
    url = f"{SESSIONS}{session.code}/attendance/"
    assert api(ministry, "teacher").get(url).status_code in (403, 404)
    grid = api(ministry, "dist").get(url).json()
    assert [d["date"] for d in grid["days"]] == ["2026-03-02", "2026-03-03"]
    assert grid["rows"][0]["marks"] == {}
    for date in ("2026-03-02", "2026-03-03"):
        response = api(ministry, "dist").post(
            url,
            {"date": date, "marks": [{"enrolment": enrolment.pk, "present": True}]},
            format="json",
        )
        assert response.status_code == 200
    assert response.json()["rows"][0]["marks"] == {"2026-03-02": True, "2026-03-03": True}
    bad = api(ministry, "dist").post(url, {"date": "2030-01-01", "marks": []}, format="json")
    assert bad.json()["code"] == "session_day_unknown"
    done = api(ministry, "dist").post(
        f"{SESSIONS}{session.code}/complete/",
        {"scores": {str(enrolment.pk): 90}, "actual_cost": "700.00"},
        format="json",
    )
    assert done.status_code == 200, done.json()
    assert done.json()["completed"] == [enrolment.pk]
    assert len(done.json()["certificates"]) == 1
    assert TrainingSession.objects.get().status == SessionStatus.COMPLETED
    late = api(ministry, "dist").post(
        url,
        {"date": "2026-03-02", "marks": [{"enrolment": enrolment.pk, "present": False}]},
        format="json",
    )
    assert late.json()["code"] == "session_not_running"


def test_schema_documents_the_endpoints(ministry: MiniMinistry) -> None:
    schema: dict[str, Any] = api(ministry, "admin").get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/training-sessions/",
        "/api/v1/training-sessions/{code}/",
        "/api/v1/training-sessions/{code}/attendance/",
        "/api/v1/training-sessions/{code}/complete/",
        "/api/v1/enrolments/",
        "/api/v1/enrolments/{id}/approve/",
        "/api/v1/enrolments/{id}/withdraw/",
    ):
        assert path in paths, path
    assert "post" in paths["/api/v1/training-sessions/{code}/attendance/"]

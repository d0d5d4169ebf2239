"""Session screens: list and its scope, create (also from a training need), the session
page and its actions, bulk enrolment preview, attendance on the phone screen, completion,
the calendar and My training; query counts for the lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from educap.core.testing import MiniMinistry, make_person
from educap.frameworks.models import Framework
from educap.training.models import (
    Attendance,
    Enrolment,
    EnrolmentStatus,
    SessionStatus,
    TrainingSession,
)
from educap.training.tests.factories import make_course, make_enrolment, make_session
from educap.training.tests.test_sessions_services import framework, item_of, rate

pytestmark = pytest.mark.django_db
__all__ = ["framework"]  # the fixture, re-used


def client_for(ministry: MiniMinistry, username: str, language: str = "en") -> Client:
    client = Client()
    client.force_login(ministry.users[username])
    client.cookies["django_language"] = language
    return client


# --- list ------------------------------------------------------------------------------


def test_list_is_scoped(ministry: MiniMinistry) -> None:
    course = make_course()
    make_session(course, ministry.units["G1D1"], code="S-G1D1", status=SessionStatus.PLANNED)
    make_session(course, ministry.units["G2D1"], code="S-G2D1", status=SessionStatus.PLANNED)
    make_session(course, ministry.units["G1"], code="S-G1-OPEN")
    url = reverse("training:session_list")
    dist = client_for(ministry, "dist").get(url).content.decode()
    assert "S-G1D1" in dist
    assert "S-G2D1" not in dist
    assert "New session" in dist
    # A teacher in G1D1S1 sees the open governorate session (they could join it), not the
    # planned ones.
    teacher = client_for(ministry, "teacher").get(url).content.decode()
    assert "S-G1-OPEN" in teacher
    assert "S-G1D1" not in teacher
    assert "New session" not in teacher
    # A planned session becomes visible to the teacher once they are in it.
    make_enrolment(TrainingSession.objects.get(code="S-G1D1"), ministry.people["g1d1_teacher"])
    assert "S-G1D1" in client_for(ministry, "teacher").get(url).content.decode()


def test_list_filters_and_empty_state(ministry: MiniMinistry) -> None:
    make_session(make_course("C-A", title="Alpha"), ministry.units["G1"], code="S-A")
    make_session(
        make_course("C-B", title="Beta"),
        ministry.units["G2"],
        code="S-B",
        starts_on=dt.date(2026, 5, 4),
        status=SessionStatus.RUNNING,
    )
    client = client_for(ministry, "central")
    url = reverse("training:session_list")
    assert "S-B" not in client.get(url, {"q": "alpha"}).content.decode()
    html = client.get(url, {"status": "running"}).content.decode()
    assert "S-B" in html
    assert "S-A" not in html
    html = client.get(url, {"month": "2026-05"}).content.decode()
    assert "S-B" in html
    assert "S-A" not in html
    assert "S-A" in client.get(url, {"unit": "G1"}).content.decode()
    assert "S-A" in client.get(url, {"course": "C-A"}).content.decode()
    html = client.get(url, {"q": "nothing-like-it"}).content.decode()
    assert "No session matches your filters." in html


def test_list_queries_do_not_grow_with_sessions(
    ministry: MiniMinistry, django_assert_max_num_queries: Any
) -> None:
    client = client_for(ministry, "gov1")
    course = make_course()
    make_session(course, ministry.units["G1D1"], code="S-0")
    with django_assert_max_num_queries(25) as few:
        client.get(reverse("training:session_list"))
    for n in range(1, 20):
        session = make_session(course, ministry.units["G1D2"], code=f"S-{n}")
        make_enrolment(session, make_person(ministry.units["G1D2S1"]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("training:session_list")).content.decode()
    assert "S-19" in html


# --- create and edit -------------------------------------------------------------------


def _form(course: Any, unit: str = "G1D1", **extra: Any) -> dict[str, Any]:
    return {
        "course": course.pk,
        "unit": unit,
        "starts_on": "2027-03-01",
        "ends_on": "2027-03-02",
        "capacity": "12",
        "venue": "District office",
        "requires_approval": "on",
        **extra,
    }


def test_create_session(ministry: MiniMinistry) -> None:
    course = make_course()
    client = client_for(ministry, "dist")
    page = client.get(reverse("training:session_create"), {"course": course.code})
    assert page.status_code == 200
    assert 'value="G1D1"' in page.content.decode()  # the district officer's own unit
    number = ministry.people["g1d2_teacher"].staff_number
    response = client.post(reverse("training:session_create"), _form(course, facilitators=number))
    session = TrainingSession.objects.get()
    assert response.url == reverse("training:session_detail", args=[session.code])
    assert session.requires_approval
    assert list(session.facilitators.all()) == [ministry.people["g1d2_teacher"]]
    assert session.days.count() == 2


def test_create_refuses_a_unit_outside_the_scope(ministry: MiniMinistry) -> None:
    response = client_for(ministry, "dist").post(
        reverse("training:session_create"), _form(make_course(), unit="G2D1")
    )
    assert response.status_code == 200
    assert "You cannot organise sessions for this unit." in response.content.decode()
    assert not TrainingSession.objects.exists()


def test_staff_cannot_open_the_create_form(ministry: MiniMinistry) -> None:
    response = client_for(ministry, "teacher").get(reverse("training:session_create"))
    assert response.status_code == 403


def test_create_from_a_training_need_goes_on_to_bulk_enrolment(
    ministry: MiniMinistry, framework: Framework
) -> None:
    course = make_course(framework=framework)
    make_course("C-OTHER")
    d12 = item_of(framework, "D1.2")
    client = client_for(ministry, "dist")
    page = client.get(reverse("training:session_create"), {"unit": "G1D1", "item": d12.pk})
    html = page.content.decode()
    assert "C-DQ1" in html
    assert "C-OTHER" not in html  # only courses that develop the competency
    assert 'id="session-need"' in html
    response = client.post(
        reverse("training:session_create"), {**_form(course), "item": str(d12.pk)}
    )
    session = TrainingSession.objects.get()
    assert response.url == (
        reverse("training:session_bulk_enrol", args=[session.code]) + f"?unit=G1D1&item={d12.pk}"
    )


def test_edit_session(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"])
    client = client_for(ministry, "dist")
    url = reverse("training:session_edit", args=[session.code])
    assert client.get(url).status_code == 200
    response = client.post(url, {**_form(session.course), "capacity": "30", "venue": "Hall"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.capacity, session.venue) == (30, "Hall")
    assert client_for(ministry, "gov1").get(url).status_code == 200
    assert client_for(ministry, "head").get(url).status_code == 403  # sees it (open), cannot edit


def test_schedule_page_edits_days(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], days=3)
    client = client_for(ministry, "dist")
    url = reverse("training:session_schedule", args=[session.code])
    assert client.get(url).status_code == 200
    data = {"day-TOTAL_FORMS": "4", "day-INITIAL_FORMS": "3"}
    for n, day in enumerate(session.days.all()):
        data |= {f"day-{n}-date": day.date.isoformat(), f"day-{n}-starts_at": "09:00"}
        if n != 1:
            data[f"day-{n}-keep"] = "on"
    data["day-0-topic"] = "Opening"
    response = client.post(url, data)
    assert response.status_code == 302
    assert [(d.date.day, d.topic) for d in session.days.all()] == [(2, "Opening"), (4, "")]


# --- the session page ------------------------------------------------------------------


def test_detail_shows_people_requests_and_conflicts(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], capacity=1)
    other = make_session(make_course("C-2"), ministry.units["G1"], code="S-OTHER")
    make_enrolment(session, ministry.people["g1d1_head"])
    make_enrolment(other, ministry.people["g1d1_head"])
    make_enrolment(session, ministry.people["g1d1_officer"], status=EnrolmentStatus.WAITLISTED)
    make_enrolment(session, ministry.people["g1d1_teacher"], status=EnrolmentStatus.REQUESTED)
    html = client_for(ministry, "dist").get(reverse("training:session_detail", args=[session.code]))
    text = html.content.decode()
    assert ministry.people["g1d1_head"].full_name in text
    assert "Also in S-OTHER" in text
    assert 'id="waitlist"' in text
    assert 'id="requests"' in text
    assert "Enrol from training needs" in text
    # The teacher sees their own request, nobody else's place.
    text = (
        client_for(ministry, "teacher")
        .get(reverse("training:session_detail", args=[session.code]))
        .content.decode()
    )
    assert 'id="my-enrolment"' in text
    assert ministry.people["g1d1_officer"].full_name not in text


def test_detail_warns_of_missing_prerequisites(ministry: MiniMinistry) -> None:
    basics = make_course("C-BASICS")
    advanced = make_course("C-ADV")
    advanced.prerequisites.add(basics)
    done = make_session(basics, ministry.units["G1D1"], code="S-BASICS", status="completed")
    make_enrolment(done, ministry.people["g1d1_head"], status=EnrolmentStatus.COMPLETED)
    session = make_session(advanced, ministry.units["G1D1"], code="S-ADV")
    make_enrolment(session, ministry.people["g1d1_head"])
    make_enrolment(session, ministry.people["g1d1_officer"])
    text = (
        client_for(ministry, "dist")
        .get(reverse("training:session_detail", args=[session.code]))
        .content.decode()
    )
    # Only the officer, who has not done the basics, is flagged.
    assert text.count("Has not completed the prerequisite C-BASICS") == 1
    officer = text.index(ministry.people["g1d1_officer"].full_name)
    assert text.index("Has not completed the prerequisite C-BASICS") > officer
    # A learner looking at the session sees what the course expects.
    learner = client_for(ministry, "teacher").get(
        reverse("training:session_detail", args=[session.code])
    )
    assert 'id="my-prerequisites"' in learner.content.decode()


def test_self_enrol_approve_and_withdraw_through_the_pages(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], capacity=1)
    teacher = client_for(ministry, "teacher")
    detail = reverse("training:session_detail", args=[session.code])
    assert 'id="self-enrol"' in teacher.get(detail).content.decode()
    teacher.post(reverse("training:session_enrol", args=[session.code]))
    enrolment = Enrolment.objects.get()
    assert enrolment.status == EnrolmentStatus.REQUESTED
    head = client_for(ministry, "head")
    mine = head.get(reverse("training:my_training")).content.decode()
    assert 'id="approvals"' in mine
    head.post(
        reverse("training:session_enrolment_decide", args=[enrolment.pk]),
        {"decision": "approve", "next": reverse("training:my_training")},
    )
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.ENROLLED
    teacher.post(reverse("training:session_enrolment_withdraw", args=[enrolment.pk]))
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.WITHDRAWN


def test_nominate_through_the_page(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"])
    head = client_for(ministry, "head")
    html = head.get(reverse("training:session_detail", args=[session.code])).content.decode()
    assert 'id="nominate"' in html
    teacher = ministry.people["g1d1_teacher"]
    head.post(reverse("training:session_nominate", args=[session.code]), {"team": [teacher.pk]})
    assert Enrolment.objects.get().person == teacher
    response = client_for(ministry, "dist").post(
        reverse("training:session_nominate", args=[session.code]),
        {"people": ministry.people["g2d1_teacher"].staff_number},
    )
    assert response.status_code == 403


def test_status_buttons(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"], status=SessionStatus.PLANNED)
    client = client_for(ministry, "dist")
    url = reverse("training:session_status", args=[session.code])
    client.post(url, {"status": "open"})
    client.post(url, {"status": "running"})
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING
    response = client.post(url, {"status": "planned"}, follow=True)
    assert "cannot become" in response.content.decode()


# --- bulk enrolment --------------------------------------------------------------------


def test_bulk_enrol_preview_and_confirm(ministry: MiniMinistry, framework: Framework) -> None:
    from educap.gaps.engine import gaps_rebuild

    d12 = item_of(framework, "D1.2")
    role = ministry.people["g1d1_officer"].role
    people = [make_person(ministry.units["G1D1S1"], role, sex=s) for s in "FFM"]
    for person in people:
        rate(person, d12, 1)
    rate(ministry.people["g1d1_officer"], d12, 3)  # meets it
    gaps_rebuild()
    course = make_course(framework=framework)
    session = make_session(course, ministry.units["G1D1"], capacity=2)
    client = client_for(ministry, "dist")
    url = reverse("training:session_bulk_enrol", args=[session.code])
    html = client.get(url, {"unit": "G1D1", "item": d12.pk}).content.decode()
    assert 'id="preview-total">3<' in html
    assert "★" in html  # the course develops D1.2
    html = client.get(url, {"unit": "G1D1", "item": d12.pk, "sex": "M"}).content.decode()
    assert 'id="preview-total">1<' in html
    response = client.post(url, {"unit": "G1D1", "item": d12.pk, "role": "", "sex": ""})
    assert response.status_code == 302
    statuses = sorted(Enrolment.objects.values_list("status", flat=True))
    assert statuses == ["enrolled", "enrolled", "waitlisted"]
    # Outside the officer's subtree: no preview, no enrolment.
    html = client.get(url, {"unit": "G2", "item": d12.pk}).content.decode()
    assert "Choose a unit you manage." in html


def test_bulk_enrol_page_is_for_organisers(ministry: MiniMinistry) -> None:
    session = make_session(make_course(), ministry.units["G1D1"])
    url = reverse("training:session_bulk_enrol", args=[session.code])
    assert client_for(ministry, "teacher").get(url).status_code == 403


# --- attendance, sign-in sheet, completion ----------------------------------------------


@pytest.fixture
def running(ministry: MiniMinistry) -> TrainingSession:
    session = make_session(make_course(), ministry.units["G1D1"], status=SessionStatus.RUNNING)
    make_enrolment(session, ministry.people["g1d1_head"])
    make_enrolment(session, ministry.people["g1d1_teacher"])
    return session


def test_attendance_screen_taps_save_with_htmx(ministry: MiniMinistry, running) -> None:
    client = client_for(ministry, "dist")
    url = reverse("training:session_attendance", args=[running.code])
    html = client.get(url, {"day": "2026-03-03"}).content.decode()
    assert "Day 2" in html
    assert 'hx-post="' in html
    enrolment = running.enrolments.get(person=ministry.people["g1d1_head"])
    response = client.post(
        reverse("training:session_attendance_mark", args=[running.code]),
        {"day": "2026-03-03", "enrolment": enrolment.pk, "present": "1"},
        HTTP_HX_REQUEST="true",
    )
    fragment = response.content.decode()
    assert f'id="att-{enrolment.pk}"' in fragment
    assert 'aria-pressed="true"' in fragment
    assert 'hx-swap-oob="true"' in fragment  # the counter follows
    assert Attendance.objects.get().present is True
    # "Everyone present" without htmx: a redirect back to the same day.
    response = client.post(
        reverse("training:session_attendance_mark", args=[running.code]),
        {"day": "2026-03-02", "all": "1"},
    )
    assert response.url.endswith("?day=2026-03-02")
    assert Attendance.objects.filter(present=True).count() == 3


def test_attendance_is_for_organisers_and_facilitators(ministry: MiniMinistry, running) -> None:
    url = reverse("training:session_attendance", args=[running.code])
    assert client_for(ministry, "head").get(url).status_code == 403
    assert client_for(ministry, "trainer").get(url).status_code == 404
    from educap.core.testing import make_user

    running.facilitators.add(ministry.people["g2d1_head"])
    client = Client()
    client.force_login(make_user("fac", ministry.people["g2d1_head"]))
    assert client.get(url).status_code == 200
    assert running.code in client.get(reverse("training:my_training")).content.decode()


def test_attendance_queries_do_not_grow_with_participants(
    ministry: MiniMinistry, running, django_assert_max_num_queries: Any
) -> None:
    client = client_for(ministry, "dist")
    url = reverse("training:session_attendance", args=[running.code])
    with django_assert_max_num_queries(25) as few:
        client.get(url)
    for _ in range(15):
        make_enrolment(running, make_person(ministry.units["G1D1S1"]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_complete_page(ministry: MiniMinistry, running) -> None:
    client = client_for(ministry, "dist")
    url = reverse("training:session_complete", args=[running.code])
    head = running.enrolments.get(person=ministry.people["g1d1_head"])
    for day in running.days.all():
        Attendance.objects.create(enrolment=head, day=day, present=True)
    html = client.get(url).content.decode()
    assert "100%" in html
    assert "0%" in html
    response = client.post(
        url,
        {"completed_on": "2026-03-03", "actual_cost": "900", f"score_{head.pk}": "88"},
    )
    assert response.status_code == 302
    head.refresh_from_db()
    assert (head.status, head.score) == (EnrolmentStatus.COMPLETED, 88)
    assert running.enrolments.get(person=ministry.people["g1d1_teacher"]).status == (
        EnrolmentStatus.NOT_COMPLETED
    )
    mine = client_for(ministry, "head").get(reverse("training:my_training")).content.decode()
    assert "Completed" in mine
    assert "Attendance 100%" in mine


def test_complete_rejects_bad_scores(ministry: MiniMinistry, running) -> None:
    head = running.enrolments.get(person=ministry.people["g1d1_head"])
    response = client_for(ministry, "dist").post(
        reverse("training:session_complete", args=[running.code]),
        {"completed_on": "2026-03-03", f"score_{head.pk}": "140"},
    )
    assert response.status_code == 200
    running.refresh_from_db()
    assert running.status == SessionStatus.RUNNING


# --- calendar and my training ----------------------------------------------------------


def test_calendar_month_and_unit(ministry: MiniMinistry) -> None:
    make_session(make_course(), ministry.units["G1D1"], code="S-MARCH")
    make_session(make_course("C-2"), ministry.units["G2D1"], code="S-OTHER-UNIT")
    client = client_for(ministry, "central")
    url = reverse("training:session_calendar")
    html = client.get(url, {"unit": "G1", "month": "2026-03"}).content.decode()
    assert "March 2026" in html
    assert reverse("training:session_detail", args=["S-MARCH"]) in html
    assert "S-OTHER-UNIT" not in html
    assert "month=2026-04" in html  # next month
    assert "month=2026-02" in html
    html = client.get(url, {"unit": "G1", "month": "2026-04"}).content.decode()
    assert 'id="calendar-empty"' in html
    arabic = client_for(ministry, "central", "ar").get(url, {"unit": "G1", "month": "2026-03"})
    assert 'dir="rtl"' in arabic.content.decode()


def test_my_training_lists_enrolments_and_open_sessions(ministry: MiniMinistry) -> None:
    course = make_course()
    mine = make_session(course, ministry.units["G1D1"], code="S-MINE")
    make_enrolment(mine, ministry.people["g1d1_teacher"])
    make_session(make_course("C-OPEN"), ministry.units["G1"], code="S-JOIN",
                 starts_on=dt.date(2099, 1, 5))  # fmt: skip
    make_session(make_course("C-FAR"), ministry.units["G2"], code="S-FAR",
                 starts_on=dt.date(2099, 1, 5))  # fmt: skip
    html = client_for(ministry, "teacher").get(reverse("training:my_training")).content.decode()
    assert reverse("training:session_detail", args=["S-MINE"]) in html
    assert reverse("training:session_detail", args=["S-JOIN"]) in html
    assert "S-FAR" not in html


def test_pages_render_in_arabic(ministry: MiniMinistry, running) -> None:
    client = client_for(ministry, "dist", "ar")
    for name, args in [
        ("training:session_list", []),
        ("training:session_detail", [running.code]),
        ("training:session_attendance", [running.code]),
        ("training:session_complete", [running.code]),
        ("training:session_edit", [running.code]),
        ("training:my_training", []),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        assert 'dir="rtl"' in response.content.decode()


def test_detail_calendar_and_my_training_queries_do_not_grow(
    ministry: MiniMinistry, django_assert_max_num_queries: Any
) -> None:
    course = make_course()
    session = make_session(course, ministry.units["G1D1"], code="S-MAIN")
    teacher = ministry.people["g1d1_teacher"]
    make_enrolment(session, teacher)
    pages = [
        ("dist", reverse("training:session_detail", args=[session.code])),
        ("dist", reverse("training:session_calendar") + "?unit=G1D1&month=2026-03"),
        ("teacher", reverse("training:my_training")),
    ]
    counts = []
    for username, url in pages:
        with django_assert_max_num_queries(30) as few:
            assert client_for(ministry, username).get(url).status_code == 200
        counts.append(len(few.captured_queries))
    for n in range(12):
        other = make_session(make_course(f"C-{n}"), ministry.units["G1D1"], code=f"S-{n}")
        make_enrolment(other, teacher, status=EnrolmentStatus.COMPLETED)
        person = make_person(ministry.units["G1D1S1"])
        make_enrolment(session, person)
        make_enrolment(other, person, status=EnrolmentStatus.WAITLISTED)
    for (username, url), count in zip(pages, counts, strict=True):
        with django_assert_max_num_queries(count):
            client_for(ministry, username).get(url)

"""CPD pages: my CPD, submitting with evidence, withdrawing, approvals, evidence access,
the compliance dashboard with its CSV, the requirements page, and query counts."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from educap.accounts.models import GrantKind
from educap.core.testing import MiniMinistry, make_person, make_unit, make_user
from educap.training.models import CpdKind, CpdRecord, CpdRequirement, CpdStatus
from educap.training.tests.test_cpd_services import PDF, make_record, submit, upload

pytestmark = pytest.mark.django_db
THIS_YEAR = timezone.localdate().year


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200
    return len(queries)


# --- my CPD ----------------------------------------------------------------------------


def test_my_cpd_shows_progress_and_records(client, ministry: MiniMinistry) -> None:
    teacher = ministry.people["g1d1_teacher"]
    CpdRequirement.objects.create(role=teacher.role, year=THIS_YEAR, hours=Decimal(20))
    today = timezone.localdate()
    make_record(teacher, title="Statistics course", completed_on=today, hours=Decimal(10))
    make_record(teacher, title="Old", completed_on=dt.date(THIS_YEAR - 1, 6, 1))
    submit(ministry.users["teacher"], title="Webinar on SDG 4", hours=Decimal(4))
    client.force_login(ministry.users["teacher"])
    html = client.get(reverse("training:cpd_mine")).content.decode()
    assert "10 of 20 hours approved" in html
    assert "pct-50" in html  # approved part of the bar
    assert "4 more hours await approval" in html
    assert "Statistics course" in html
    assert "Webinar on SDG 4" in html
    assert "Old" not in html
    assert "Withdraw" in html
    assert "/media/" not in html
    html = client.get(reverse("training:cpd_mine"), {"year": THIS_YEAR - 1}).content.decode()
    assert "Old" in html
    assert "No CPD requirement is set" in html
    html = client.get(reverse("training:cpd_mine"), {"status": "pending"}).content.decode()
    assert "Webinar on SDG 4" in html
    assert "Statistics course" not in html
    html = client.get(reverse("training:cpd_mine"), {"q": "nothing like it"}).content.decode()
    assert 'id="cpd-records-empty"' in html


def test_my_cpd_without_a_staff_record(client, ministry) -> None:
    client.force_login(ministry.users["partner"])
    response = client.get(reverse("training:cpd_mine"))
    assert response.status_code == 200
    assert 'id="cpd-no-person"' in response.content.decode()
    assert client.get(reverse("training:cpd_submit")).status_code == 403


def test_my_cpd_in_arabic(client, ministry) -> None:
    client.force_login(ministry.users["teacher"])
    client.cookies["django_language"] = "ar"
    response = client.get(reverse("training:cpd_mine"))
    assert response.status_code == 200
    assert 'dir="rtl"' in response.content.decode()


def test_a_person_page_for_their_managers(client, ministry) -> None:
    teacher = ministry.people["g1d1_teacher"]
    make_record(teacher, title="Visible to the head")
    url = reverse("training:cpd_person", args=[teacher.pk])
    client.force_login(ministry.users["head"])
    html = client.get(url).content.decode()
    assert "Visible to the head" in html
    assert "Withdraw" not in html
    client.force_login(ministry.users["teacher"])
    assert client.get(url).status_code == 302
    client.force_login(ministry.users["partner"])
    assert client.get(url).status_code == 404


def test_submit_with_evidence(client, ministry) -> None:
    client.force_login(ministry.users["teacher"])
    url = reverse("training:cpd_submit")
    assert client.get(url).status_code == 200
    data = {
        "kind": CpdKind.WEBINAR,
        "title": "Digital safety",
        "provider": "UNICEF",
        "completed_on": timezone.localdate().isoformat(),
        "hours": "1.5",
        "credits": "",
        "evidence": upload(),
    }
    response = client.post(url, data)
    assert response.status_code == 302
    record = CpdRecord.objects.get()
    assert (record.title, record.hours, record.status) == (
        "Digital safety",
        Decimal("1.5"),
        "pending",
    )
    assert record.evidence.read() == PDF


def test_submit_shows_what_is_wrong(client, ministry) -> None:
    client.force_login(ministry.users["teacher"])
    data = {
        "kind": CpdKind.COURSE,
        "title": "Course",
        "completed_on": (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
        "hours": "3",
        "evidence": upload(b"<html></html>", "fake.pdf"),
    }
    html = client.post(reverse("training:cpd_submit"), data).content.decode()
    assert "The date cannot be in the future." in html
    assert "is-invalid" in html
    data["completed_on"] = timezone.localdate().isoformat()
    data["evidence"] = upload(b"<html></html>", "fake.pdf")
    html = client.post(reverse("training:cpd_submit"), data).content.decode()
    assert "Upload a PDF, JPEG or PNG file" in html
    assert not CpdRecord.objects.exists()


def test_withdraw(client, ministry) -> None:
    record = submit(ministry.users["teacher"])
    client.force_login(ministry.users["head"])
    assert client.post(reverse("training:cpd_withdraw", args=[record.pk])).status_code == 403
    assert CpdRecord.objects.filter(pk=record.pk).exists()
    client.force_login(ministry.users["teacher"])
    assert client.get(reverse("training:cpd_withdraw", args=[record.pk])).status_code == 405
    client.post(reverse("training:cpd_withdraw", args=[record.pk]))
    assert not CpdRecord.objects.filter(pk=record.pk).exists()


# --- approvals and evidence ------------------------------------------------------------


def test_approvals_page_and_decisions(client, ministry) -> None:
    record = submit(ministry.users["teacher"], title="Conference on EMIS")
    client.force_login(ministry.users["head"])
    html = client.get(reverse("training:cpd_approvals")).content.decode()
    assert "Conference on EMIS" in html
    assert reverse("training:cpd_evidence", args=[record.pk]) in html
    assert "/media/" not in html
    decide = reverse("training:cpd_decide", args=[record.pk])
    back = reverse("training:cpd_approvals") + "?q=conf"
    response = client.post(decide, {"decision": "reject", "note": "", "next": back})
    assert response["Location"] == back
    record.refresh_from_db()
    assert record.status == CpdStatus.PENDING  # a rejection needs a note
    client.post(decide, {"decision": "approve", "next": "https://evil.example/"})
    record.refresh_from_db()
    assert record.status == CpdStatus.APPROVED
    html = client.get(reverse("training:cpd_approvals")).content.decode()
    assert 'id="cpd-queue-empty"' in html


def test_approvals_are_for_deciders_only(client, ministry) -> None:
    record = submit(ministry.users["teacher"])
    for username in ("teacher", "partner", "trainer"):
        client.force_login(ministry.users[username])
        assert client.get(reverse("training:cpd_approvals")).status_code == 403
    client.force_login(ministry.users["partner"])
    assert (
        client.post(
            reverse("training:cpd_decide", args=[record.pk]), {"decision": "approve"}
        ).status_code
        == 404
    )
    record.refresh_from_db()
    assert record.status == CpdStatus.PENDING


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("teacher", 200),  # the person
        ("head", 200),  # their supervisor
        ("dist", 200),  # managers over them
        ("gov1", 200),
        ("central", 200),
        ("admin", 200),
        ("g2head", 404),  # a supervisor elsewhere
        ("g2dist", 404),  # a manager elsewhere
        ("colleague", 404),
        ("partner", 404),  # aggregates only
        ("trainer", 404),
    ],
)
def test_evidence_goes_to_the_person_their_supervisor_and_managers(
    client, ministry, username, status
) -> None:
    make_user("g2head", ministry.people["g2d1_head"], [(GrantKind.SUPERVISOR, None)])
    make_user("g2dist", None, [(GrantKind.UNIT_MANAGER, ministry.units["G2D1"])])
    make_user("colleague", ministry.people["g1d2_teacher"], [(GrantKind.STAFF, None)])
    from educap.accounts.models import User

    record = submit(ministry.users["teacher"])
    client.force_login(User.objects.get(username=username))
    response = client.get(reverse("training:cpd_evidence", args=[record.pk]))
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "no-store" in response["Cache-Control"]


def test_evidence_needs_a_sign_in(client, ministry) -> None:
    record = submit(ministry.users["teacher"])
    response = client.get(reverse("training:cpd_evidence", args=[record.pk]))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# --- compliance ------------------------------------------------------------------------


@pytest.fixture
def requirements(ministry: MiniMinistry) -> None:
    p = ministry.people
    CpdRequirement.objects.create(role=p["g1d1_teacher"].role, year=THIS_YEAR, hours=10)
    CpdRequirement.objects.create(role=p["g1d1_head"].role, year=THIS_YEAR, credits=2)
    make_record(p["g1d1_teacher"], hours=Decimal(12))
    make_record(p["g2d1_teacher"], hours=Decimal(3))


def test_compliance_dashboard_with_drill_down(client, ministry, requirements) -> None:
    client.force_login(ministry.users["central"])
    response = client.get(reverse("training:cpd_compliance"))
    assert response["Location"] == reverse("training:cpd_compliance_unit", args=["MOE"])
    html = client.get(response["Location"], {"year": THIS_YEAR}).content.decode()
    assert reverse("training:cpd_compliance_unit", args=["G1"]) + f"?year={THIS_YEAR}" in html
    assert 'id="cpd-staff-table"' in html
    html = client.get(
        reverse("training:cpd_compliance_unit", args=["G1D1"]), {"year": THIS_YEAR}
    ).content.decode()
    assert 'id="stat-staff">2<' in html  # the head and the teacher of G1D1S1
    assert "School G1D1S1" in html
    html = client.get(
        reverse("training:cpd_compliance_unit", args=["G1D1"]),
        {"year": THIS_YEAR, "state": "compliant"},
    ).content.decode()
    assert ministry.people["g1d1_teacher"].family_name in html
    assert ministry.people["g1d1_head"].family_name not in html


def test_compliance_filters_and_empty_state(client, ministry, requirements) -> None:
    client.force_login(ministry.users["central"])
    url = reverse("training:cpd_compliance_unit", args=["MOE"])
    html = client.get(url, {"year": THIS_YEAR - 3}).content.decode()
    assert 'id="cpd-compliance-empty"' in html
    html = client.get(url, {"year": THIS_YEAR, "role": "teacher", "sex": "M"}).content.decode()
    assert 'id="stat-staff">1<' in html  # the one man teacher


def test_compliance_for_partners_hides_small_groups_and_people(client, ministry, requirements):
    client.force_login(ministry.users["partner"])
    response = client.get(reverse("training:cpd_compliance"))
    assert response["Location"] == reverse("training:cpd_compliance_unit", args=["G2"])
    html = client.get(response["Location"]).content.decode()
    assert 'id="suppression-note"' in html
    assert 'id="stat-staff">&lt;5<' in html
    assert 'id="cpd-staff"' not in html
    assert ministry.people["g2d1_teacher"].family_name not in html
    assert client.get(reverse("training:cpd_compliance_unit", args=["G1"])).status_code == 403
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(reverse("training:cpd_compliance_csv", args=["G2"])).content.decode()
            )
        )
    )
    assert rows[0][0] == "year"
    assert rows[1][4:7] == ["total", "<5", "<5"]


def test_compliance_csv(client, ministry, requirements) -> None:
    client.force_login(ministry.users["admin"])
    response = client.get(reverse("training:cpd_compliance_csv", args=["G1"]), {"year": THIS_YEAR})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][:9] == [
        str(THIS_YEAR),
        "G1",
        "Governorate G1",
        "Governorate",
        "total",
        "3",
        "1",
        "0.3333",
        "12.0",
    ]
    assert [r[1] for r in rows[2:]] == ["G1D1", "G1D2"]


def test_compliance_is_refused_without_aggregates(client, ministry) -> None:
    for username in ("teacher", "head"):
        client.force_login(ministry.users[username])
        assert client.get(reverse("training:cpd_compliance")).status_code == 403
        assert client.get(reverse("training:cpd_compliance_unit", args=["G1D1"])).status_code == 403


def _grow(ministry: MiniMinistry, schools: int) -> None:
    teacher = ministry.people["g1d1_teacher"].role
    for n in range(schools):
        school = make_unit(f"G1D1X{n}", ministry.levels["school"], ministry.units["G1D1"])
        for k in range(3):
            person = make_person(school, teacher, sex="MF"[k % 2])
            make_record(person, hours=Decimal(4 * k))
            make_record(person, hours=Decimal(2), status=CpdStatus.PENDING)


@pytest.mark.parametrize("code", ["MOE", "G1D1"])
def test_compliance_query_count_does_not_grow(client, ministry, requirements, code) -> None:
    client.force_login(ministry.users["central"])
    url = reverse("training:cpd_compliance_unit", args=[code]) + f"?year={THIS_YEAR}"
    small = _count(client, url)
    _grow(ministry, 8)
    assert _count(client, url) == small <= 20


def test_list_query_counts_do_not_grow(client, ministry, requirements) -> None:
    teacher = ministry.users["teacher"]
    for n in range(3):
        submit(teacher, title=f"Course {n}")
    client.force_login(teacher)
    mine = _count(client, reverse("training:cpd_mine"))
    client.force_login(ministry.users["head"])
    queue = _count(client, reverse("training:cpd_approvals"))
    client.force_login(ministry.users["central"])
    rules = _count(client, reverse("training:cpd_requirements"))
    for n in range(3, 15):
        submit(teacher, title=f"Course {n}")
    head = ministry.people["g1d1_head"]
    for _ in range(6):
        submit_for = make_person(head.unit, ministry.people["g1d1_teacher"].role, head)
        make_record(submit_for, status=CpdStatus.PENDING)
    client.force_login(teacher)
    assert _count(client, reverse("training:cpd_mine")) == mine <= 15
    client.force_login(ministry.users["head"])
    assert _count(client, reverse("training:cpd_approvals")) == queue <= 15
    client.force_login(ministry.users["central"])
    assert _count(client, reverse("training:cpd_requirements")) == rules <= 15


# --- requirements ----------------------------------------------------------------------


def test_requirements_page(client, ministry) -> None:
    url = reverse("training:cpd_requirements")
    client.force_login(ministry.users["central"])
    html = client.get(url, {"year": THIS_YEAR}).content.decode()
    assert "Head teacher" in html
    assert 'name="hours"' in html
    response = client.post(
        url, {"role": "teacher", "year": THIS_YEAR, "hours": "20", "credits": "", "next": url}
    )
    assert response.status_code == 302
    requirement = CpdRequirement.objects.get()
    assert (requirement.role.code, requirement.year, requirement.hours) == (
        "teacher",
        THIS_YEAR,
        20,
    )
    client.post(url, {"role": "teacher", "year": THIS_YEAR, "hours": "", "credits": ""})
    requirement.refresh_from_db()
    assert requirement.hours == 20  # empty requirement refused
    client.post(reverse("training:cpd_requirement_delete", args=[requirement.pk]))
    assert not CpdRequirement.objects.exists()


def test_requirements_are_read_only_for_others(client, ministry) -> None:
    url = reverse("training:cpd_requirements")
    requirement = CpdRequirement.objects.create(
        role=ministry.people["g1d1_teacher"].role, year=THIS_YEAR, hours=5
    )
    client.force_login(ministry.users["dist"])
    html = client.get(url).content.decode()
    assert 'id="cpd-requirements-readonly"' in html
    assert 'name="hours"' not in html
    assert client.post(url, {"role": "teacher", "year": THIS_YEAR, "hours": "1"}).status_code == 403
    delete = reverse("training:cpd_requirement_delete", args=[requirement.pk])
    assert client.post(delete).status_code == 403
    requirement.refresh_from_db()
    assert requirement.hours == 5


def test_partners_see_small_groups_as_under_the_threshold(client, ministry, requirements):
    teacher = ministry.people["g2d1_teacher"].role
    for _ in range(6):
        make_person(ministry.units["G2D1S1"], teacher)
    make_person(ministry.units["G2D2S1"], teacher)
    client.force_login(ministry.users["partner"])
    html = client.get(reverse("training:cpd_compliance_unit", args=["G2"])).content.decode()
    assert 'id="stat-staff">9<' in html
    assert "&lt;5" in html
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(reverse("training:cpd_compliance_csv", args=["G2"])).content.decode()
            )
        )
    )
    assert {r[1]: r[5] for r in rows[2:]} == {"G2D1": "8", "G2D2": "<5"}

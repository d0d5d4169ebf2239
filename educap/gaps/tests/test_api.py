"""Gap analysis API: same numbers as the selectors, scoped per persona, fixed query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from educap.assessments.consolidation import current_levels_rebuild
from educap.assessments.models import Rating
from educap.assessments.tests.factories import make_published_framework
from educap.core.testing import make_person
from educap.frameworks.models import FrameworkItem
from educap.gaps.engine import gaps_rebuild
from educap.gaps.selectors import GapFilters, unit_matrix
from educap.people.models import Vacancy

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(ministry):
    """The fixture of test_selectors: every requirement rated 1 by the supervisor (self 2),
    except the teachers' D1.1 at 3 (self 4)."""
    framework = make_published_framework()
    items = {i.code: i for i in FrameworkItem.objects.filter(framework=framework)}
    now = timezone.now()
    p = ministry.people
    values = {
        (p["g1d1_teacher"], "D1.1"): 3,
        (p["g2d1_teacher"], "D1.1"): 3,
        (p["g1d1_officer"], "D1.1"): 1,
        (p["g1d1_officer"], "D1.2"): 1,
        (p["g1d1_officer"], "D2.1"): 1,
        (p["g1d1_head"], "D1.1"): 1,
        (p["g1d1_head"], "D2.2"): 1,
    }
    for (person, code), value in values.items():
        Rating.objects.create(
            person=person, item=items[code], source="supervisor", value=value, rated_at=now
        )
        Rating.objects.create(
            person=person, item=items[code], source="self", value=value + 1, rated_at=now
        )
    current_levels_rebuild()
    gaps_rebuild()
    return framework


def _cell(cells: list[dict], code: str) -> dict:
    return next(c for c in cells if c["competency"] == code)


def test_unit_gaps_equal_the_selector(ministry, rated, api_for):
    body = api_for("central").get("/api/v1/gaps/units/MOE/").json()
    assert body["unit"] == {"code": "MOE", "name": "Ministry of Education", "level": "ministry"}
    assert body["framework"]["code"] == "EMIS-T"
    assert body["suppressed"] is False
    assert [c["code"] for c in body["competencies"]] == ["D1.1", "D1.2", "D2.1", "D2.2"]
    d11 = _cell(body["cells"], "D1.1")
    assert (d11["in_scope"], d11["assessed"], d11["meeting"], d11["below"]) == (8, 4, 2, 2)
    assert d11["unknown"] == 4
    assert d11["mean_gap"] == pytest.approx(0.5)
    assert d11["share_meeting"] == pytest.approx(0.5)
    assert d11["mean_self_minus_supervisor"] == 1
    assert d11["suppressed"] is False
    matrix = unit_matrix(
        user=ministry.users["central"], unit=ministry.units["MOE"], filters=GapFilters(rated)
    )
    assert body["total"]["in_scope"] == matrix.total.in_scope
    assert body["total"]["priority"] == matrix.total.priority
    assert [c["unit"]["code"] for c in body["children"]] == ["G1", "G2"]
    g1 = body["children"][0]
    assert g1["total"]["in_scope"] == matrix.children[0][1].in_scope
    assert _cell(g1["cells"], "D2.1")["below"] == 1


def test_filters_role_sex_and_framework(ministry, rated, api_for):
    client = api_for("central")
    body = client.get("/api/v1/gaps/units/MOE/?role=teacher").json()
    assert [c["competency"] for c in body["cells"]] == ["D1.1"]
    assert _cell(body["cells"], "D1.1")["in_scope"] == 3
    body = client.get("/api/v1/gaps/units/MOE/?sex=M").json()
    assert _cell(body["cells"], "D1.1")["in_scope"] == 2  # the district officer and a teacher
    body = client.get(f"/api/v1/gaps/units/MOE/?framework={rated.pk}").json()
    assert body["framework"]["id"] == rated.pk
    bad = client.get("/api/v1/gaps/units/MOE/?framework=99999")
    assert bad.status_code == 400
    assert bad.json() == {
        "code": "gaps_no_framework",
        "detail": bad.json()["detail"],
        "field": "framework",
        "errors": bad.json()["errors"],
    }
    assert client.get("/api/v1/gaps/units/MOE/?sex=X").json()["field"] == "sex"
    assert client.get("/api/v1/gaps/units/MOE/?role=nope").status_code == 404
    assert client.get("/api/v1/gaps/units/NOPE/").status_code == 404


@pytest.mark.parametrize(
    ("username", "unit", "expected"),
    [
        ("admin", "G1", 200),
        ("central", "G1", 200),
        ("gov1", "G1", 200),
        ("gov1", "G2", 403),
        ("dist", "G1D1", 200),
        ("dist", "G1", 403),
        ("head", "G1D1S1", 403),
        ("teacher", "G1D1S1", 403),
        ("trainer", "G1", 403),
        ("partner", "G1", 403),
        ("partner", "G2", 200),
        (None, "G1", 401),
    ],
)
def test_unit_gaps_for_each_persona(ministry, rated, api_for, username, unit, expected):
    for suffix in ("", "training-needs/", "recruitment-needs/"):
        response = api_for(username).get(f"/api/v1/gaps/units/{unit}/{suffix}")
        assert response.status_code == expected, suffix
        if expected == 403:
            assert response.json()["code"] == "gaps_not_allowed"
        if expected == 401:
            assert response.json()["code"] == "not_authenticated"


def test_partner_sees_small_cells_as_null(ministry, rated, api_for):
    body = api_for("partner").get("/api/v1/gaps/units/G2/").json()
    assert body["suppressed"] is True
    cell = _cell(body["cells"], "D1.1")  # 2 people in G2: below the threshold of 5
    assert cell["suppressed"] is True
    assert cell["in_scope"] is None
    assert cell["mean_gap"] is None
    assert all(c["in_scope"] is None for child in body["children"] for c in child["cells"])
    # Central officers see the same cell in full.
    full = _cell(api_for("central").get("/api/v1/gaps/units/G2/").json()["cells"], "D1.1")
    assert (full["in_scope"], full["suppressed"]) == (2, False)


def test_training_needs(ministry, rated, api_for):
    body = api_for("central").get("/api/v1/gaps/units/MOE/training-needs/").json()
    first = body["needs"][0]
    assert first["competency"]["code"] == "D2.1"
    assert first["stats"]["priority"] == 8  # weight 4 x gap 2, one officer
    assert first["below_by_role_sex"] == [{"role": "emis_officer", "sex": "M", "below": 1}]
    assert [n["stats"]["priority"] for n in body["needs"]] == sorted(
        (n["stats"]["priority"] for n in body["needs"]), reverse=True
    )
    limited = api_for("central").get("/api/v1/gaps/units/MOE/training-needs/?limit=1").json()
    assert len(limited["needs"]) == 1
    partner = api_for("partner").get("/api/v1/gaps/units/G2/training-needs/").json()
    assert all(n["stats"]["suppressed"] for n in partner["needs"])
    assert all(n["below_by_role_sex"] == [] for n in partner["needs"])


def test_recruitment_needs(ministry, rated, api_for):
    Vacancy.objects.create(
        unit=ministry.units["G1D1S1"],
        role=ministry.people["g1d1_teacher"].role,
        opened_on=dt.date(2026, 1, 1),
    )
    body = api_for("central").get("/api/v1/gaps/units/G1/recruitment-needs/").json()
    critical = {(n["unit"], n["role"], n["competency"]) for n in body["needs"] if n["competency"]}
    assert ("G1D1", "emis_officer", "D2.1") in critical
    # Competency needs list the unit and its child units; a deeper unit is a drill-down away.
    national = api_for("central").get("/api/v1/gaps/units/MOE/recruitment-needs/").json()
    assert not {n["unit"] for n in national["needs"] if n["competency"]} - {"MOE", "G1", "G2"}
    # The school's post counts for its governorate, the ministry's listed child unit.
    vacancies = [n for n in national["needs"] if n["competency"] is None]
    assert vacancies == [
        {
            "unit": "G1",
            "role": "teacher",
            "competency": None,
            "in_post": 0,
            "vacancies": 1,
            "vacancies_below": True,
        }
    ]
    district = api_for("central").get("/api/v1/gaps/units/G1D1/recruitment-needs/").json()
    assert [(n["unit"], n["vacancies_below"]) for n in district["needs"] if n["vacancies"]] == [
        ("G1D1S1", False)
    ]


def test_person_gaps(ministry, rated, api_for):
    officer = ministry.people["g1d1_officer"]
    body = api_for("dist").get(f"/api/v1/gaps/people/{officer.pk}/").json()
    assert body["person"] == {
        "id": officer.pk,
        "staff_number": officer.staff_number,
        "unit": "G1D1",
        "role": "emis_officer",
    }
    assert [(g["competency"]["code"], g["gap"], g["status"]) for g in body["gaps"]] == [
        ("D1.1", 1, "below"),
        ("D1.2", 2, "below"),
        ("D2.1", 2, "below"),
    ]
    assert (body["met"], body["below"], body["unknown"]) == (0, 3, 0)
    assert body["weighted_gap_index"] == pytest.approx((2 * 1 + 2 * 2 + 4 * 2) / (4 + 6 + 12))
    unrated = make_person(ministry.units["G1D1S1"], ministry.people["g1d1_teacher"].role)
    body = api_for("admin").get(f"/api/v1/gaps/people/{unrated.pk}/").json()
    assert body["gaps"][0]["current"] is None
    assert body["gaps"][0]["status"] == "unknown"
    assert body["weighted_gap_index"] is None


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("admin", 200),
        ("central", 200),
        ("gov1", 200),
        ("dist", 200),
        ("head", 404),
        ("teacher", 404),
        ("trainer", 404),
        ("partner", 404),
        (None, 401),
    ],
)
def test_person_gaps_for_each_persona(ministry, rated, api_for, username, expected):
    officer = ministry.people["g1d1_officer"]
    response = api_for(username).get(f"/api/v1/gaps/people/{officer.pk}/")
    assert response.status_code == expected
    if expected == 404:
        assert response.json()["code"] == "not_found"


def test_token_authentication(ministry, rated):
    token = Token.objects.create(user=ministry.users["teacher"])
    teacher = ministry.people["g1d1_teacher"]
    response = APIClient().get(
        f"/api/v1/gaps/people/{teacher.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert response.status_code == 200
    assert response.json()["gaps"][0]["status"] == "met"


def _grow(ministry, n: int) -> None:
    teacher = ministry.people["g1d1_teacher"].role
    for k in range(n):
        for code in ("G1D1S1", "G1D2S1", "G2D1S1"):
            make_person(ministry.units[code], teacher, sex="MF"[k % 2])
    gaps_rebuild()


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/api/v1/gaps/units/MOE/", 6),
        ("/api/v1/gaps/units/MOE/training-needs/", 11),
        ("/api/v1/gaps/units/MOE/recruitment-needs/", 11),
    ],
)
def test_unit_query_count_does_not_grow(
    ministry, rated, api_for, django_assert_max_num_queries, path, queries
):
    client = api_for("central")
    for n in (0, 10):
        _grow(ministry, n)
        with django_assert_max_num_queries(queries):
            assert client.get(path).status_code == 200


def test_person_query_count(ministry, rated, api_for, django_assert_max_num_queries):
    officer = ministry.people["g1d1_officer"]
    with django_assert_max_num_queries(7):
        assert api_for("central").get(f"/api/v1/gaps/people/{officer.pk}/").status_code == 200

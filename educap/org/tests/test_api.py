import pytest
from rest_framework.test import APIClient

from educap.core.testing import MiniMinistry


@pytest.fixture
def api(ministry: MiniMinistry) -> APIClient:
    client = APIClient()
    client.force_authenticate(ministry.users["teacher"])
    return client


@pytest.mark.django_db
def test_units_filter_by_subtree_and_level(api: APIClient) -> None:
    rows = api.get("/api/v1/org-units/?within=G1&level=school").json()["results"]
    assert [r["code"] for r in rows] == ["G1D1S1", "G1D2S1"]
    assert rows[0]["parent"] == "G1D1"


@pytest.mark.django_db
def test_units_direct_children(api: APIClient) -> None:
    rows = api.get("/api/v1/org-units/?parent=MOE").json()["results"]
    assert {r["code"] for r in rows} == {"G1", "G2"}


@pytest.mark.django_db
def test_unit_detail_by_code(api: APIClient) -> None:
    body = api.get("/api/v1/org-units/G2D1/").json()
    assert body["level"] == "district"
    assert api.get("/api/v1/org-units/NOPE/").json()["code"] == "not_found"


@pytest.mark.django_db
def test_levels(api: APIClient) -> None:
    assert [lvl["code"] for lvl in api.get("/api/v1/org-levels/").json()] == [
        "ministry",
        "governorate",
        "district",
        "school",
    ]


@pytest.mark.django_db
def test_unit_list_query_count(
    api: APIClient, ministry: MiniMinistry, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(3):
        assert api.get("/api/v1/org-units/?page_size=100").status_code == 200

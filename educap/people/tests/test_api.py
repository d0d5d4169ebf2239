import pytest
from rest_framework.test import APIClient

from educap.core.testing import MiniMinistry, make_person


@pytest.fixture
def api(ministry: MiniMinistry) -> APIClient:
    client = APIClient()
    client.force_authenticate(ministry.users["gov1"])
    return client


@pytest.mark.django_db
def test_people_filters(api: APIClient, ministry: MiniMinistry) -> None:
    rows = api.get("/api/v1/people/?unit=G1D1&sex=M").json()["results"]
    assert {r["staff_number"] for r in rows} == {
        ministry.people["g1d1_officer"].staff_number,
        ministry.people["g1d1_teacher"].staff_number,
    }
    rows = api.get("/api/v1/people/?role=teacher").json()["results"]
    assert all(r["role"] == "teacher" for r in rows)
    assert api.get("/api/v1/people/?unit=NOPE").json()["code"] == "not_found"


@pytest.mark.django_db
def test_roles_and_vacancies(api: APIClient) -> None:
    codes = {r["code"] for r in api.get("/api/v1/roles/").json()}
    assert {"teacher", "head_teacher", "emis_officer"} <= codes
    assert api.get("/api/v1/vacancies/").json()["count"] == 0


@pytest.mark.django_db
def test_people_list_query_count(
    api: APIClient, ministry: MiniMinistry, django_assert_max_num_queries
) -> None:
    for _ in range(30):
        make_person(ministry.units["G1D2S1"])
    with django_assert_max_num_queries(4):
        body = api.get("/api/v1/people/?page_size=100").json()
    assert body["count"] == 35


@pytest.mark.django_db
def test_people_api_is_read_only(api: APIClient) -> None:
    response = api.post("/api/v1/people/", {"given_name": "X"})
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"

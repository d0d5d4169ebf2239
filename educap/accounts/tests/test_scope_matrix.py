"""Every grant x every person-data page and endpoint: nobody sees anything outside their scope."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from educap.core.testing import MiniMinistry

G1 = {"g1_officer", "g1d1_officer", "g1d1_head", "g1d1_teacher", "g1d2_teacher"}
ALL = G1 | {"central", "g2d1_head", "g2d1_teacher"}

VISIBLE: dict[str, set[str]] = {
    "admin": ALL,
    "central": ALL,
    "gov1": G1,
    "dist": {"g1d1_officer", "g1d1_head", "g1d1_teacher"},
    "head": {"g1d1_head", "g1d1_teacher"},
    "teacher": {"g1d1_teacher"},
    "trainer": set(),
    "partner": set(),
}
CASES = [(user, person) for user in VISIBLE for person in sorted(ALL)]


@pytest.mark.django_db
@pytest.mark.parametrize(("username", "person_key"), CASES)
def test_person_page_and_api_follow_grants(
    ministry: MiniMinistry, username: str, person_key: str
) -> None:
    user = ministry.users[username]
    person = ministry.people[person_key]
    allowed = person_key in VISIBLE[username]

    web = Client()
    web.force_login(user)
    page = web.get(reverse("people:detail", args=[person.pk]))
    assert page.status_code == (200 if allowed else 404)

    api = APIClient()
    api.force_authenticate(user)
    detail = api.get(f"/api/v1/people/{person.pk}/")
    assert detail.status_code == (200 if allowed else 404)
    if not allowed:
        assert detail.json()["code"] == "not_found"

    history = api.get(f"/api/v1/assignments/?person={person.pk}")
    assert history.status_code == 200
    assert (history.json()["count"] > 0) == allowed


@pytest.mark.django_db
@pytest.mark.parametrize("username", list(VISIBLE))
def test_lists_contain_exactly_the_scope(ministry: MiniMinistry, username: str) -> None:
    user = ministry.users[username]
    expected = {ministry.people[key].staff_number for key in VISIBLE[username]}

    api = APIClient()
    api.force_authenticate(user)
    listed = api.get("/api/v1/people/?page_size=500").json()["results"]
    assert {row["staff_number"] for row in listed} == expected

    web = Client()
    web.force_login(user)
    html = web.get(reverse("people:list")).content.decode()
    for person in ministry.people.values():
        assert (person.staff_number in html) == (person.staff_number in expected)


@pytest.mark.django_db
@pytest.mark.parametrize("username", list(VISIBLE))
def test_unit_pages_list_only_visible_staff(ministry: MiniMinistry, username: str) -> None:
    web = Client()
    web.force_login(ministry.users[username])
    html = web.get(reverse("org:unit", args=["MOE"])).content.decode()
    for key, person in ministry.people.items():
        assert (f"/people/{person.pk}/" in html) == (key in VISIBLE[username]), key


@pytest.mark.django_db
def test_anonymous_sees_nothing(ministry: MiniMinistry) -> None:
    person = ministry.people["central"]
    assert Client().get(reverse("people:detail", args=[person.pk])).status_code == 302
    response = APIClient().get("/api/v1/people/")
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"

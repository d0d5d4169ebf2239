import pytest
from django.test import Client
from django.urls import reverse

from educap.core.testing import MiniMinistry, make_person


@pytest.fixture
def central(ministry: MiniMinistry) -> Client:
    client = Client()
    client.force_login(ministry.users["central"])
    return client


@pytest.mark.django_db
def test_filters_search_and_pagination(ministry: MiniMinistry, central: Client) -> None:
    html = central.get(reverse("people:list"), {"unit": "G2", "sex": "F"}).content.decode()
    assert ministry.people["g2d1_head"].staff_number in html
    assert ministry.people["g1d1_head"].staff_number not in html

    person = ministry.people["g1d1_teacher"]
    html = central.get(reverse("people:list"), {"q": person.family_name}).content.decode()
    assert person.staff_number in html
    assert ministry.people["central"].staff_number not in html

    html = central.get(reverse("people:list"), {"role": "head_teacher"}).content.decode()
    assert "2 people" in html


@pytest.mark.django_db
def test_unknown_unit_filter_says_so(central: Client) -> None:
    html = central.get(reverse("people:list"), {"unit": "NOPE"}).content.decode()
    assert "No unit has the code NOPE" in html


@pytest.mark.django_db
def test_empty_state(central: Client) -> None:
    html = central.get(reverse("people:list"), {"q": "zzzz-nobody"}).content.decode()
    assert "No staff match these filters." in html


@pytest.mark.django_db
def test_htmx_request_returns_the_table_only(central: Client) -> None:
    html = central.get(reverse("people:list"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html
    assert "<table" in html


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_staff(
    ministry: MiniMinistry, central: Client, django_assert_max_num_queries
) -> None:
    url = reverse("people:list")
    with django_assert_max_num_queries(20) as before:
        central.get(url)
    for _ in range(40):
        make_person(ministry.units["G2D2S1"])
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = central.get(url)
    assert "Page 1 of 2" in response.content.decode()


@pytest.mark.django_db
def test_profile_shows_posts(ministry: MiniMinistry, central: Client) -> None:
    person = ministry.people["g1d1_teacher"]
    html = central.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "Posts held" in html
    assert "School G1D1S1" in html
    assert ministry.people["g1d1_head"].full_name in html


@pytest.mark.django_db
def test_district_manager_registers_and_edits_a_person(ministry: MiniMinistry) -> None:
    client = Client()
    client.force_login(ministry.users["dist"])
    form = client.get(reverse("people:add"))
    assert form.status_code == 200
    data = {
        "staff_number": "NEW100",
        "given_name": "Salma",
        "family_name": "Khalil",
        "sex": "F",
        "unit": "G1D1S1",
        "role": "teacher",
        "supervisor": ministry.people["g1d1_head"].staff_number,
        "start_date": "2025-09-01",
    }
    outside = client.post(reverse("people:add"), {**data, "unit": "G2D1S1"})
    assert "outside what you manage" in outside.content.decode()
    created = client.post(reverse("people:add"), data)
    assert created.status_code == 302
    from educap.people.models import Person

    person = Person.objects.get(staff_number="NEW100")
    assert person.supervisor == ministry.people["g1d1_head"]
    bad = client.post(reverse("people:edit", args=[person.pk]), {**data, "email": "nope"})
    assert "valid email" in bad.content.decode()
    ok = client.post(reverse("people:edit", args=[person.pk]), {**data, "phone": "123"})
    assert ok.status_code == 302
    person.refresh_from_db()
    assert person.phone == "123"


@pytest.mark.django_db
def test_staff_cannot_register_or_edit(ministry: MiniMinistry) -> None:
    client = Client()
    client.force_login(ministry.users["teacher"])
    assert client.get(reverse("people:add")).status_code == 403
    me = ministry.people["g1d1_teacher"]
    assert client.get(reverse("people:edit", args=[me.pk])).status_code == 403

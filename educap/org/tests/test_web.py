import pytest
from django.test import Client
from django.urls import reverse

from educap.core.testing import MiniMinistry, make_unit


@pytest.fixture
def client_for(ministry: MiniMinistry):
    def _client(username: str) -> Client:
        client = Client()
        client.force_login(ministry.users[username])
        return client

    return _client


@pytest.mark.django_db
def test_tree_shows_roots_and_lazy_children(ministry: MiniMinistry, client_for) -> None:
    client = client_for("teacher")
    page = client.get(reverse("org:tree"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ministry of Education" in html
    assert "Governorate G1" not in html  # loaded on demand
    children = client.get(reverse("org:children", args=["MOE"]), HTTP_HX_REQUEST="true")
    assert "Governorate G1" in children.content.decode()
    assert "Governorate G2" in children.content.decode()


@pytest.mark.django_db
def test_tree_search(ministry: MiniMinistry, client_for) -> None:
    page = client_for("teacher").get(reverse("org:tree"), {"q": "G2D1"})
    assert "School G2D1S1" in page.content.decode()


@pytest.mark.django_db
def test_unit_page_breadcrumbs_go_up_the_hierarchy(ministry: MiniMinistry, client_for) -> None:
    html = client_for("central").get(reverse("org:unit", args=["G1D1S1"])).content.decode()
    crumbs = html[html.index('class="breadcrumb"') :]
    for name in ("Ministry of Education", "Governorate G1", "District G1D1", "School G1D1S1"):
        assert name in crumbs
    assert crumbs.index("Governorate G1") < crumbs.index("District G1D1")


@pytest.mark.django_db
def test_unknown_unit_is_404(ministry: MiniMinistry, client_for) -> None:
    assert client_for("central").get(reverse("org:unit", args=["NOPE"])).status_code == 404


@pytest.mark.django_db
def test_children_query_count_does_not_grow(
    ministry: MiniMinistry, client_for, django_assert_max_num_queries
) -> None:
    client = client_for("central")
    url = reverse("org:children", args=["G1D1"])
    with django_assert_max_num_queries(8) as small:
        client.get(url)
    for i in range(30):
        make_unit(f"X{i}", ministry.levels["school"], ministry.units["G1D1"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count('role="treeitem"') == 31


@pytest.mark.django_db
def test_unit_page_query_count_is_bounded(
    ministry: MiniMinistry, client_for, django_assert_max_num_queries
) -> None:
    client = client_for("central")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("org:unit", args=["MOE"]))
    assert response.status_code == 200


@pytest.mark.django_db
def test_tree_is_login_only(ministry: MiniMinistry) -> None:
    response = Client().get(reverse("org:tree"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.django_db
def test_partner_sees_suppressed_aggregates_only_in_their_subtree(
    ministry: MiniMinistry, client_for
) -> None:
    partner = client_for("partner")
    page = partner.get(reverse("org:unit", args=["G2"])).content.decode()
    assert reverse("org:headcount", args=["G2"]) in page
    assert "/people/" not in page.split('id="staff-heading"')[1]
    table = partner.get(reverse("org:headcount", args=["G2"])).content.decode()
    assert "&lt;5" in table  # one head teacher, one teacher: both suppressed
    assert partner.get(reverse("org:headcount", args=["G1"])).status_code == 403


@pytest.mark.django_db
def test_managers_see_exact_counts(ministry: MiniMinistry, client_for) -> None:
    table = client_for("gov1").get(reverse("org:headcount", args=["G1"])).content.decode()
    assert "&lt;5" not in table
    assert "Teacher" in table


@pytest.mark.django_db
def test_children_come_in_batches(ministry: MiniMinistry, client_for, monkeypatch) -> None:
    from educap.org.web import views

    monkeypatch.setattr(views, "CHILDREN_BATCH", 5)
    for i in range(7):
        make_unit(f"B{i:02d}", ministry.levels["school"], ministry.units["G2D2"])
    client = client_for("central")
    first = client.get(reverse("org:children", args=["G2D2"])).content.decode()
    assert first.count('role="treeitem"') == 5
    assert "offset=5" in first
    rest = client.get(reverse("org:children", args=["G2D2"]), {"offset": 5}).content.decode()
    assert rest.count('role="treeitem"') == 3
    assert "Show more units" not in rest


@pytest.mark.django_db
def test_picker_suggests_units(ministry: MiniMinistry, client_for) -> None:
    html = (
        client_for("teacher").get(reverse("org:picker"), {"unit": "District G2"}).content.decode()
    )
    assert '<option value="G2D1">' in html
    assert '<option value="G2D2">' in html

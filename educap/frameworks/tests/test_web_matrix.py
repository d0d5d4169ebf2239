from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from educap.core.testing import MiniMinistry
from educap.frameworks.matrix import matrix_build
from educap.frameworks.models import FrameworkItem, FrameworkStatus, ItemKind, Requirement
from educap.frameworks.selectors import scale_levels
from educap.frameworks.tests.test_api import Built, build_framework


@pytest.fixture
def client_for(ministry: MiniMinistry):
    def _client(username: str) -> Client:
        client = Client()
        client.force_login(ministry.users[username])
        return client

    return _client


def _page(built: Built, **params: str) -> str:
    url = reverse("frameworks:matrix", args=[built.framework.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def _cell_url(built: Built, profile: int, item: int) -> str:
    return reverse(
        "frameworks:matrix_cell",
        args=[built.framework.pk, built.profiles[profile].pk, built.competencies[item].pk],
    )


@pytest.mark.django_db
def test_editor_sees_an_editable_grid(ministry: MiniMinistry, client_for) -> None:
    built = build_framework(profiles=4)
    response = client_for("central").get(_page(built))
    assert response.status_code == 200
    html = response.content.decode()
    # A real table: column headers per profile (code shown, full name in the title).
    assert html.count('<th scope="col" class="matrix-role">') == 4
    assert '<abbr title="Profile number 2 — inherits Profile number 1">' in html
    # Rows by domain, competencies as row headers.
    assert html.count('scope="rowgroup"') == 2
    assert html.count('<th scope="row"') == 6
    table = html.split('id="matrix-table"')[1]
    assert table.index("Domain 0") < table.index("D00.C02") < table.index("Domain 1")
    # Every cell is a button with a label that says what it does.
    assert html.count('class="matrix-btn"') == 6 * 4
    assert (
        'aria-label="Set requirement for Profile number 0 on Competency 0.0 on data quality: '
        "level 1 Awareness, Useful" in html
    )
    # P01 inherits D00.C00 from P00 (P01 has no requirement of its own on it).
    cell = _cell_html(html, built.profiles[1].pk, built.competencies[0].pk)
    assert "is-inherited" in cell
    assert 'title="inherited from P00"' in cell
    assert "Published versions cannot change" not in html
    assert "<script>" not in html.split("</head>")[1]
    assert ' style="' not in html


def _cell_html(html: str, profile_id: int, item_id: int) -> str:
    match = re.search(rf'<td id="cell-{profile_id}-{item_id}".*?</td>', html, re.S)
    assert match, f"cell {profile_id}-{item_id} not found"
    return match.group(0)


@pytest.mark.django_db
def test_published_is_read_only_with_a_notice(ministry: MiniMinistry, client_for) -> None:
    built = build_framework(status=FrameworkStatus.PUBLISHED)
    for username in ("central", "teacher"):
        html = client_for(username).get(_page(built)).content.decode()
        assert "Published versions cannot change" in html
        assert "matrix-btn" not in html
        assert "hx-get=" not in html.split('id="matrix-table"')[1]
        assert "Set requirement for" not in html
        # Read-only cells say in hidden text what the colours and dots mean.
        assert '<span class="visually-hidden">level 1 Awareness, Useful</span>' in html


@pytest.mark.django_db
def test_published_notice_points_editors_to_a_new_version(
    ministry: MiniMinistry, client_for
) -> None:
    built = build_framework(status=FrameworkStatus.PUBLISHED)
    detail = reverse("frameworks:detail", args=[built.framework.pk])
    assert "make a new version</a>" in client_for("central").get(_page(built)).content.decode()
    assert f'<a href="{detail}">Open the framework' in (
        client_for("central").get(_page(built)).content.decode()
    )
    assert "Open the framework" not in client_for("teacher").get(_page(built)).content.decode()


@pytest.mark.django_db
def test_competencies_stay_under_their_own_domain(ministry: MiniMinistry) -> None:
    """A competency listed after a sub-domain goes back under its parent domain's heading."""
    built = build_framework(domains=1, per_domain=1, profiles=1)
    framework, domain = built.framework, built.domains[0]
    sub = FrameworkItem.objects.create(
        framework=framework, parent=domain, kind=ItemKind.DOMAIN, code="SUB", statement="Sub"
    )
    sub.sequence = 2
    sub.save()
    FrameworkItem.objects.create(
        framework=framework, parent=sub, kind=ItemKind.COMPETENCY, code="SUB.C", statement="x"
    )
    FrameworkItem.objects.create(
        framework=framework,
        parent=domain,
        kind=ItemKind.COMPETENCY,
        code="LAST",
        statement="y",
        sequence=3,
    )
    grid = matrix_build(framework=framework, levels=scale_levels(framework=framework))
    layout = [
        (group.heading.item.code if group.heading else None, [r.node.item.code for r in group.rows])
        for group in grid.groups
    ]
    assert layout == [("D00", ["D00.C00"]), ("SUB", ["SUB.C"]), ("D00", ["LAST"])]
    assert (grid.shown, grid.total) == (3, 3)
    assert [node.item.code for node in grid.domains] == ["D00", "SUB"]


@pytest.mark.django_db
def test_drafts_are_hidden_from_non_editors(ministry: MiniMinistry, client_for) -> None:
    built = build_framework()
    assert client_for("teacher").get(_page(built)).status_code == 404
    assert client_for("teacher").get(_cell_url(built, 0, 0)).status_code == 404
    assert client_for("admin").get(_page(built)).status_code == 200
    anonymous = Client().get(_page(built))
    assert anonymous.status_code == 302


@pytest.mark.django_db
def test_non_editors_cannot_open_or_post_a_cell(ministry: MiniMinistry, client_for) -> None:
    built = build_framework(status=FrameworkStatus.PUBLISHED)
    head = client_for("head")
    assert head.get(_cell_url(built, 0, 0)).status_code == 403
    assert head.post(_cell_url(built, 0, 1), {"level": "4", "weight": "4"}).status_code == 403
    assert not Requirement.objects.filter(
        profile=built.profiles[0], item=built.competencies[1]
    ).exists()


@pytest.mark.django_db
def test_cell_form_then_save(ministry: MiniMinistry, client_for) -> None:
    built = build_framework(profiles=4)
    client = client_for("central")
    url = _cell_url(built, 0, 1)
    form = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert form.startswith('<td id="cell-')
    assert 'name="level"' in form
    assert '<option value="" selected>Not required</option>' in form
    assert '<option value="4">4 Expert</option>' in form
    assert '<option value="4">Critical</option>' in form
    assert "autofocus" in form

    saved = client.post(url, {"level": "4", "weight": "4"}, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200
    requirement = Requirement.objects.get(profile=built.profiles[0], item=built.competencies[1])
    assert (requirement.level.code, requirement.weight) == ("4", 4)
    html = saved.content.decode()
    cell = _cell_html(html, built.profiles[0].pk, built.competencies[1].pk)
    assert "lvl-4" in cell
    assert "★" in cell
    assert "autofocus" in cell
    # P01 and P02 inherit from P00 and have no requirement of their own on this competency:
    # their cells come along out of band; P03 does not inherit and is not sent.
    for profile in built.profiles[1:3]:
        other = _cell_html(html, profile.pk, built.competencies[1].pk)
        if not Requirement.objects.filter(profile=profile, item=built.competencies[1]).exists():
            assert "is-inherited" in other
            assert "inherited from P00" in other
        assert 'hx-swap-oob="true"' in other
        assert "autofocus" not in other
    assert f'id="cell-{built.profiles[3].pk}-' not in html

    # "Not required" removes it; the cancel button gives the cell back unchanged.
    client.post(url, {"level": "", "weight": "2"}, HTTP_HX_REQUEST="true")
    assert not Requirement.objects.filter(
        profile=built.profiles[0], item=built.competencies[1]
    ).exists()
    cancelled = client.get(url + "?cancel=1", HTTP_HX_REQUEST="true").content.decode()
    assert "matrix-btn" in cancelled
    assert "<form" not in cancelled


@pytest.mark.django_db
def test_inherited_cell_offers_to_inherit(ministry: MiniMinistry, client_for) -> None:
    built = build_framework(profiles=3)
    form = client_for("central").get(_cell_url(built, 1, 0)).content.decode()
    assert "Inherit: 1 from P00" in form


@pytest.mark.django_db
def test_bad_input_and_published_errors_show_in_the_form(
    ministry: MiniMinistry, client_for
) -> None:
    built = build_framework()
    client = client_for("central")
    bad = client.post(_cell_url(built, 0, 1), {"level": "9", "weight": "2"})
    assert bad.status_code == 200
    assert "is-invalid" in bad.content.decode()
    assert not Requirement.objects.filter(
        profile=built.profiles[0], item=built.competencies[1]
    ).exists()

    published = build_framework(code="PUB", status=FrameworkStatus.PUBLISHED)
    read_only = client.get(_cell_url(published, 0, 0)).content.decode()
    assert "<form" not in read_only
    assert "matrix-btn" not in read_only
    refused = client.post(_cell_url(published, 0, 1), {"level": "3", "weight": "2"})
    assert "published versions cannot change" in refused.content.decode()
    assert not Requirement.objects.filter(
        profile=published.profiles[0], item=published.competencies[1]
    ).exists()


@pytest.mark.django_db
def test_cell_of_another_framework_is_404(ministry: MiniMinistry, client_for) -> None:
    one = build_framework(code="ONE")
    two = build_framework(code="TWO")
    url = reverse(
        "frameworks:matrix_cell",
        args=[one.framework.pk, two.profiles[0].pk, one.competencies[0].pk],
    )
    assert client_for("central").get(url).status_code == 404
    domain = reverse(
        "frameworks:matrix_cell", args=[one.framework.pk, one.profiles[0].pk, one.domains[0].pk]
    )
    assert client_for("central").get(domain).status_code == 404


@pytest.mark.django_db
def test_filter_by_domain_and_search(ministry: MiniMinistry, client_for) -> None:
    built = build_framework(domains=3, per_domain=4)
    client = client_for("central")
    html = client.get(_page(built, domain=str(built.domains[1].pk))).content.decode()
    table = html.split('id="matrix-table"')[1]
    assert "D01.C00" in table
    assert "D00.C00" not in table
    assert "D02.C00" not in table
    assert "4 of 12 competencies shown" in table
    assert f'<option value="{built.domains[1].pk}" selected>' in html

    partial = client.get(
        _page(built, q="1.2"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="matrix-table"
    ).content.decode()
    assert "<html" not in partial
    assert "D01.C02" in partial
    assert "D00.C00" not in partial
    assert "Domain 1" in partial  # the heading of a match stays

    nothing = client.get(_page(built, q="no such thing")).content.decode()
    assert "No competencies match these filters." in nothing
    # A domain id from nowhere is ignored rather than an error.
    assert "12 of 12" in client.get(_page(built, domain="999999")).content.decode()


@pytest.mark.django_db
def test_matrix_page_queries_do_not_grow(
    ministry: MiniMinistry, client_for, django_assert_max_num_queries
) -> None:
    client = client_for("central")
    small = build_framework(code="SMALL", domains=1, per_domain=2, profiles=2)
    with django_assert_max_num_queries(12) as captured:
        assert client.get(_page(small)).status_code == 200
    baseline = len(captured.captured_queries)
    # 80 competencies x 15 role profiles, the size the page must stay usable at.
    big = build_framework(code="BIG", domains=8, per_domain=10, profiles=15)
    with django_assert_max_num_queries(baseline):
        html = client.get(_page(big)).content.decode()
    assert html.count('class="matrix-btn"') == 80 * 15
    assert html.count('<th scope="row"') == 80
    with django_assert_max_num_queries(baseline):
        client.get(_page(big, q="data", domain=str(big.domains[3].pk)))


@pytest.mark.django_db
def test_cell_queries_do_not_grow(
    ministry: MiniMinistry, client_for, django_assert_max_num_queries
) -> None:
    client = client_for("central")
    small = build_framework(code="SMALL", domains=1, per_domain=2, profiles=3)
    with django_assert_max_num_queries(40) as captured:
        client.post(_cell_url(small, 0, 1), {"level": "3", "weight": "3"})
    baseline = len(captured.captured_queries)
    big = build_framework(code="BIG", domains=8, per_domain=10, profiles=15)
    with django_assert_max_num_queries(baseline):
        client.post(_cell_url(big, 0, 1), {"level": "3", "weight": "3"})

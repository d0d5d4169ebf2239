"""Gap pages: my gaps, a person's gaps, team gaps and the unit dashboard."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from educap.accounts.models import GrantKind
from educap.assessments.consolidation import current_levels_rebuild
from educap.assessments.models import Rating
from educap.assessments.services import campaign_launch
from educap.assessments.tests.factories import make_campaign, make_published_framework
from educap.core.testing import MiniMinistry, make_person, make_unit, make_user
from educap.frameworks.models import (
    Framework,
    FrameworkItem,
    LevelIndicator,
    Requirement,
    RoleProfile,
)
from educap.gaps.engine import gaps_rebuild

pytestmark = pytest.mark.django_db


@dataclass
class Rated:
    framework: Framework
    items: dict[str, FrameworkItem]


def rate_everyone(ministry: MiniMinistry) -> Rated:
    """The test framework plus a third domain (so the radar has three axes); supervisor
    ratings at 1 for everyone except the teachers' D1.1 at 3, self ratings one higher."""
    framework = make_published_framework()
    levels = {level.value: level for level in framework.scale.levels.all()}
    domain = FrameworkItem.objects.create(
        framework=framework, kind="domain", code="D3", statement="Domain 3", sequence=3
    )
    d31 = FrameworkItem.objects.create(
        framework=framework,
        parent=domain,
        kind="competency",
        code="D3.1",
        statement="Competency 3.1",
        description="Shadow a colleague through one reporting cycle.",
        sequence=1,
    )
    LevelIndicator.objects.bulk_create(
        LevelIndicator(item=d31, level=level, text=f"D3.1 at level {value}")
        for value, level in levels.items()
    )
    officer = RoleProfile.objects.get(framework=framework, code="emis_officer")
    Requirement.objects.create(profile=officer, item=d31, level=levels[2], weight=3)
    FrameworkItem.objects.filter(framework=framework, code="D1.2").update(
        description="Take the data-quality course."
    )
    items = {i.code: i for i in FrameworkItem.objects.filter(framework=framework)}
    p = ministry.people
    values = {
        (p["g1d1_teacher"], "D1.1"): 3,
        (p["g2d1_teacher"], "D1.1"): 3,
        (p["g1d1_officer"], "D1.1"): 1,
        (p["g1d1_officer"], "D1.2"): 1,
        (p["g1d1_officer"], "D2.1"): 1,
        (p["g1d1_officer"], "D3.1"): 2,
        (p["g1d1_head"], "D1.1"): 1,
        (p["g1d1_head"], "D2.2"): 1,
    }
    now = timezone.now()
    for (person, code), value in values.items():
        for source, level in (("supervisor", value), ("self", value + 1)):
            Rating.objects.create(
                person=person, item=items[code], source=source, value=level, rated_at=now
            )
    current_levels_rebuild()
    gaps_rebuild()
    return Rated(framework, items)


@pytest.fixture
def rated(ministry: MiniMinistry) -> Rated:
    return rate_everyone(ministry)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- my gaps and a person's gaps ---------------------------------------------------------


def test_my_gaps_headline_radar_and_list(client, ministry, rated):
    client.force_login(ministry.users["dist"])  # the district officer, below on 3 of 4
    response = client.get(reverse("gaps:mine"))
    assert response.status_code == 200
    html = _text(response)
    assert 'id="stat-below">3<' in html
    assert 'id="stat-met">1<' in html
    # Σ w·gap / Σ w·required = (2·1 + 2·2 + 4·2 + 3·0) / (2·2 + 2·3 + 4·3 + 3·2) = 14/28
    assert 'id="stat-index">50%<' in html
    assert '<svg class="radar"' in html
    assert '<title id="radar-title">' in html
    assert html.count("<polygon") >= 3  # rings, required and current
    # The table fallback lists each domain with its averages.
    assert "Domain 3" in html
    assert 'id="domain-table"' in html
    # Below first, then met; D1.2 (current 1) shows the indicator of level 2 and how to close.
    below = html.index('id="gaps-below"')
    met = html.index('id="gaps-met"')
    assert below < html.index("D1.2 at level 2") < met
    assert "Take the data-quality course." in html
    assert below < met
    assert 'id="gaps-unknown"' not in html
    # Met D3.1 at 2: the next level is offered as room to grow.
    assert "D3.1 at level 3" in html[met:]


def test_my_gaps_not_assessed_invites_to_the_open_self_assessment(client, ministry, rated):
    teacher = ministry.people["g1d2_teacher"]  # no rating at all
    user = make_user("t2", teacher, [(GrantKind.STAFF, None)])
    client.force_login(user)
    html = _text(client.get(reverse("gaps:mine")))
    assert 'id="gaps-not-assessed"' in html
    assert reverse("assessments:mine") not in html.split('id="gaps-not-assessed"')[1][:600]
    campaign = make_campaign(ministry, framework=rated.framework, collect_self=True)
    campaign_launch(actor=ministry.users["central"], campaign=campaign)
    html = _text(client.get(reverse("gaps:mine")))
    assert 'id="stat-unknown">1<' in html
    assert f'href="{reverse("assessments:mine")}"' in html.split('id="gaps-not-assessed"')[1]


def test_my_gaps_empty_states(client, ministry, rated):
    client.force_login(ministry.users["trainer"])  # no staff record
    assert 'id="gaps-empty"' in _text(client.get(reverse("gaps:mine")))
    person = ministry.people["g1d2_teacher"]
    person.role = None
    person.save()
    client.force_login(make_user("norole", person, [(GrantKind.STAFF, None)]))
    html = _text(client.get(reverse("gaps:mine")))
    assert 'id="gaps-empty"' in html
    assert "No role is recorded" in html


def test_my_gaps_in_arabic_keeps_svg_numbers_unlocalised(client, ministry, rated):
    client.force_login(ministry.users["dist"])
    client.cookies["django_language"] = "ar"
    html = _text(client.get(reverse("gaps:mine")))
    assert 'dir="rtl"' in html
    svg = html[html.index('<svg class="radar"') : html.index("</svg>")]
    # A decimal comma in an SVG coordinate would be read as a list of coordinates.
    assert not re.search(r'(x|y|cx|cy|x1|y1|x2|y2)="-?\d+,\d', svg)


def test_person_page_is_scoped(client, ministry, rated):
    teacher = ministry.people["g1d1_teacher"]
    client.force_login(ministry.users["head"])  # the teacher's supervisor
    response = client.get(reverse("gaps:person", args=[teacher.pk]))
    assert response.status_code == 200
    assert teacher.full_name in response.content.decode()
    client.force_login(ministry.users["teacher"])
    officer = ministry.people["g1d1_officer"]
    assert client.get(reverse("gaps:person", args=[officer.pk])).status_code == 404
    # One's own page is My gaps.
    response = client.get(reverse("gaps:person", args=[teacher.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("gaps:mine")


def test_team_gaps_grid(client, ministry, rated):
    client.force_login(ministry.users["head"])
    html = _text(client.get(reverse("gaps:team")))
    teacher = ministry.people["g1d1_teacher"]
    assert reverse("gaps:person", args=[teacher.pk]) in html
    # The teacher meets D1.1 (3 of 2): a met cell with a symbol and hidden words.
    assert re.search(
        r'class="text-center gap-cell gap-met"[^>]*>\s*<span aria-hidden="true">✓', html
    )
    assert "3/2" in html
    client.force_login(ministry.users["teacher"])
    assert 'id="team-empty"' in _text(client.get(reverse("gaps:team")))


# --- unit dashboard ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "expected"),
    [("central", "MOE"), ("dist", "G1D1"), ("partner", "G2"), ("admin", "MOE")],
)
def test_dashboard_opens_at_the_users_top_unit(client, ministry, rated, username, expected):
    client.force_login(ministry.users[username])
    response = client.get(reverse("gaps:dashboard"))
    assert response["Location"] == reverse("gaps:unit", args=[expected])


def test_dashboard_forbidden_without_aggregate_access(client, ministry, rated):
    client.force_login(ministry.users["teacher"])
    assert client.get(reverse("gaps:dashboard")).status_code == 403
    assert client.get(reverse("gaps:unit", args=["G1"])).status_code == 403
    client.force_login(ministry.users["partner"])
    assert client.get(reverse("gaps:unit", args=["G1"])).status_code == 403


def test_unit_dashboard_heat_map_and_tables(client, ministry, rated):
    client.force_login(ministry.users["central"])
    response = client.get(reverse("gaps:unit", args=["MOE"]))
    assert response.status_code == 200
    html = _text(response)
    board = response.context["board"]
    assert board.people == 8
    assert 'id="stat-people">8<' in html
    # An accessible table: caption, column and row headers, domain groups.
    heat = html[html.index('id="heat-map"') : html.index("</table>", html.index('id="heat-map"'))]
    assert 'id="heat-caption"' in heat
    assert 'scope="colgroup"' in heat
    assert 'scope="col"' in heat
    assert 'scope="row"' in heat
    assert '<abbr title="Competency 1.1">D1.1</abbr>' in heat
    # D1.1 across the ministry: 4 assessed, 2 meet -> 50%, coloured from the fixed scale.
    total_row = heat[heat.index('class="heat-total"') :]
    assert re.search(r'<td class="heat-cell heat-5" title="D1.1 [^"]*">50%</td>', total_row)
    # Rows drill down to the child units with the filters kept.
    assert f'href="{reverse("gaps:unit", args=["G1"])}"' in heat
    # TNA ranks D2.1 (critical, officer two levels short) first; recruitment and calibration.
    tna = html[html.index('id="tna-table"') :]
    assert tna.index("D2.1") < tna.index("D1.1")
    assert 'id="recruitment-table"' in html
    assert "Governorate G1" in html  # the governorate office's own officer is below on D2.1
    assert 'id="calibration-table"' in html
    calibration = html[html.index('id="calibration-table"') :].split("</table>")[0]
    high = (
        '<td class="text-center calib-high" dir="ltr"><span aria-hidden="true">▲</span> +1.0'
        '<span class="visually-hidden"> (self runs high)</span></td>'
    )
    assert high in calibration
    assert '<td class="text-center" dir="ltr">–</td>' in calibration


def test_heat_map_cells_escape_what_they_show(client, ministry, rated):
    FrameworkItem.objects.filter(pk=rated.items["D1.1"].pk).update(statement='Data "quality" <b>')
    client.force_login(ministry.users["central"])
    html = _text(client.get(reverse("gaps:unit", args=["MOE"])))
    assert "<b>" not in html.split('id="heat-map"')[1].split("</table>")[0]
    assert 'title="D1.1 Data &quot;quality&quot; &lt;b&gt; — 2 of 4 assessed meet it;' in html


def test_unit_dashboard_measures_and_filters(client, ministry, rated):
    client.force_login(ministry.users["central"])
    url = reverse("gaps:unit", args=["MOE"])
    html = _text(client.get(url, {"measure": "gap"}))
    assert re.search(r'<td class="heat-cell heat-2" title="D1.1 [^"]*">0.5</td>', html)
    teacher = ministry.people["g1d1_teacher"].role
    response = client.get(url, {"role": teacher.pk, "sex": "M", "measure": "share"})
    board = response.context["board"]
    assert board.people == 1  # the one male teacher
    # Filtered without a framework version: the select shows the default one in use.
    assert re.search(rf'<option value="{rated.framework.pk}"[^>]* selected>', _text(response))
    assert board.total.meeting == 1
    # Drill-down links keep the filters.
    assert f"role={teacher.pk}" in _text(response).split('id="heat-map"')[1]
    # A bad parameter falls back to the defaults rather than failing.
    assert client.get(url, {"role": "nope", "measure": "x"}).status_code == 200


def test_drill_down_breadcrumbs_stop_at_the_users_scope(client, ministry, rated):
    client.force_login(ministry.users["dist"])
    html = _text(client.get(reverse("gaps:unit", args=["G1D1S1"])))
    crumbs = html[
        html.index('id="gap-crumbs"') : html.index("</ol>", html.index('id="gap-crumbs"'))
    ]
    assert "District G1D1" in crumbs
    assert "School G1D1S1" in crumbs
    assert "Ministry of Education" not in crumbs
    assert "Governorate G1" not in crumbs


def test_partner_sees_small_cells_suppressed(client, ministry, rated):
    client.force_login(ministry.users["partner"])
    response = client.get(reverse("gaps:unit", args=["G2"]))
    html = _text(response)
    assert 'id="suppression-note"' in html
    assert 'id="stat-people">&lt;5<' in html
    assert "heat-suppressed" in html
    assert not re.search(r'class="heat-cell heat-\d+"', html)


# --- a fixed number of queries whatever the size -----------------------------------------


def _grow(ministry: MiniMinistry, rated: Rated, schools: int) -> None:
    """Add schools with staff (rated) under both districts of G1, then rebuild the rollups."""
    levels = ministry.levels
    officer = ministry.people["g1d1_officer"].role
    teacher = ministry.people["g1d1_teacher"].role
    now = timezone.now()
    for district in ("G1D1", "G1D2"):
        for n in range(schools):
            school = make_unit(f"{district}X{n}", levels["school"], ministry.units[district])
            for k, role in enumerate((teacher, teacher, officer)):
                person = make_person(school, role, sex="MF"[k % 2])
                Rating.objects.create(
                    person=person,
                    item=rated.items["D1.1"],
                    source="supervisor",
                    value=n % 4,
                    rated_at=now,
                )
    current_levels_rebuild()
    gaps_rebuild()


def _count(client, url: str, query: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, query or {}).status_code == 200
    return len(queries)


@pytest.mark.parametrize("unit_code", ["MOE", "G1", "G1D1", "G1D1S1"])
@pytest.mark.parametrize("split", ["", "role", "sex"])
def test_unit_dashboard_query_count_does_not_grow(client, ministry, rated, unit_code, split):
    """Whatever the size of the unit, also when schools are split by role or sex (read
    from their people's current levels)."""
    client.force_login(ministry.users["central"])
    url = reverse("gaps:unit", args=[unit_code])
    query = {
        "": {},
        "role": {"role": ministry.people["g1d1_officer"].role_id},
        "sex": {"sex": "F"},
    }[split]
    small = _count(client, url, query)
    _grow(ministry, rated, schools=12)
    large = _count(client, url, query)
    assert large == small


def test_a_past_period_costs_no_more_queries_with_more_units(client, ministry, rated):
    from educap.assessments.tests.factories import make_campaign
    from educap.gaps.services import gap_snapshot_take

    campaign = make_campaign(ministry, framework=rated.framework, code="PAST")
    client.force_login(ministry.users["central"])
    counts = []
    for schools in (0, 12):
        if schools:
            _grow(ministry, rated, schools=schools)
        snapshot = gap_snapshot_take(actor=None, campaign=campaign)
        counts.append(
            [
                _count(client, reverse("gaps:unit", args=[code]), {"period": snapshot.pk})
                for code in ("MOE", "G1D1", "G1D1S1")
            ]
        )
    assert counts[0] == counts[1]


def test_dashboard_pages_stay_within_a_fixed_budget(
    client, ministry, rated, django_assert_max_num_queries
):
    _grow(ministry, rated, schools=6)
    client.force_login(ministry.users["central"])
    with django_assert_max_num_queries(25):
        client.get(reverse("gaps:unit", args=["MOE"]), {"measure": "index"})
    client.force_login(ministry.users["head"])
    with django_assert_max_num_queries(15):
        client.get(reverse("gaps:team"))
    client.force_login(ministry.users["dist"])
    with django_assert_max_num_queries(15):
        client.get(reverse("gaps:mine"))


def test_team_query_count_does_not_grow_with_the_team(client, ministry, rated):
    client.force_login(ministry.users["head"])
    url = reverse("gaps:team")
    small = _count(client, url)
    head = ministry.people["g1d1_head"]
    for k in range(15):
        make_person(head.unit, ministry.people["g1d1_teacher"].role, head, sex="MF"[k % 2])
    assert _count(client, url) == small


def test_heat_map_pages_through_many_child_units(client, ministry, rated):
    from educap.gaps.web.views import HEAT_PAGE

    district = ministry.units["G1D2"]
    teacher = ministry.people["g1d2_teacher"]
    for n in range(HEAT_PAGE + 3):
        school = make_unit(f"G1D2X{n:02d}", ministry.levels["school"], district, name=f"X{n:02d}")
        make_person(school, teacher.role)
    gaps_rebuild()
    client.force_login(ministry.users["central"])
    url = reverse("gaps:unit", args=["G1D2"])
    first = client.get(url).content.decode()
    second = client.get(url, {"upage": 2}).content.decode()

    def heat(html: str) -> str:
        return html[html.index('id="heat-map"') : html.index('id="tna"')]

    # 29 child units with staff (28 new schools and G1D2S1): 25, then 4, the total on both.
    assert heat(first).count("<tr") == 2 + 1 + HEAT_PAGE
    assert heat(second).count("<tr") == 2 + 1 + 4
    assert "upage=2" in heat(first)
    assert "whole unit" in heat(second)


def test_my_gaps_link_the_courses_that_address_each_gap(client, ministry, rated):
    from educap.training.tests.factories import make_course

    items = rated.items
    course = make_course("C-D12", title="Data quality in practice")
    course.competencies.create(item=items["D1.2"], level=3)
    retired = make_course("C-OLD", title="Retired course", is_active=False)
    retired.competencies.create(item=items["D1.2"], level=3)
    client.force_login(ministry.users["dist"])  # below on D1.2
    html = _text(client.get(reverse("gaps:mine")))
    card = html[html.index('id="gap-d12"') :]
    card = card[: card.index("</article>")]
    assert "Data quality in practice" in card
    assert reverse("training:course_detail", args=["C-D12"]) in card
    assert "Retired course" not in html

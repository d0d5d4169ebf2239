"""Past periods: the rollups kept when a campaign closes, and the dashboards read from them."""

from __future__ import annotations

import re
from unittest.mock import patch

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from educap.assessments.consolidation import current_levels_refresh
from educap.assessments.models import Rating
from educap.assessments.services import campaign_close, campaign_launch
from educap.assessments.tests.factories import make_campaign
from educap.gaps.engine import (
    AGGREGATION_SETTINGS,
    aggregation_session,
    gaps_apply_changes,
    unit_rows,
)
from educap.gaps.models import SUBTREE_SCOPES, GapSnapshot, Scope, UnitGap, UnitGapSnapshot
from educap.gaps.selectors import GapFilters, training_needs, unit_headcount, unit_matrix
from educap.gaps.services import gap_snapshot_take
from educap.gaps.tests.test_web import Rated, rate_everyone
from educap.org.models import OrgUnit

pytestmark = pytest.mark.django_db

FIELDS = ["unit_id", "item_id", "role_id", "sex", "scope", "in_scope", "assessed", "meeting"]


@pytest.fixture
def rated(ministry) -> Rated:
    return rate_everyone(ministry)


@pytest.fixture
def campaign(ministry, rated):
    return make_campaign(ministry, framework=rated.framework, code="BASELINE")


def _subtree_rows(model, **filters) -> set[tuple]:
    return set(model.objects.filter(scope__in=SUBTREE_SCOPES, **filters).values_list(*FIELDS))


def _current_rows(framework) -> set[tuple]:
    """Every unit's subtree rows as they stand: stored for units with child units, read
    live for schools (one row per competency, scope BOTH), as a snapshot keeps them."""
    schools = OrgUnit.objects.exclude(
        pk__in=OrgUnit.objects.filter(parent__isnull=False).values("parent")
    )
    live = unit_rows(
        unit_ids=list(schools.values_list("pk", flat=True)),
        framework_id=framework.pk,
        by_role_sex=False,
    )
    return _subtree_rows(UnitGap, item__framework=framework) | {
        tuple(Scope.BOTH if f == "scope" else row[f] for f in FIELDS) for row in live
    }


def _raise_the_officer(ministry, rated: Rated) -> None:
    """A new supervisor rating lifts the G1D1 officer's D1.2 from 1 to 4 (required 3),
    through the change feed."""
    officer = ministry.people["g1d1_officer"]
    Rating.objects.create(
        person=officer,
        item=rated.items["D1.2"],
        source="supervisor",
        value=4,
        rated_at=timezone.now(),
    )
    current_levels_refresh(person_ids=[officer.pk])
    gaps_apply_changes()


def test_a_snapshot_keeps_the_period_while_the_rollups_move_on(ministry, rated, campaign):
    before = _current_rows(rated.framework)
    assert any(row[4] == Scope.BOTH for row in before)
    snapshot = gap_snapshot_take(actor=None, campaign=campaign)
    assert snapshot.rows == len(before)
    assert _subtree_rows(UnitGapSnapshot, snapshot=snapshot) == before
    _raise_the_officer(ministry, rated)
    assert _current_rows(rated.framework) != before
    assert _subtree_rows(UnitGapSnapshot, snapshot=snapshot) == before
    # Taking it again replaces it.
    again = gap_snapshot_take(actor=None, campaign=campaign)
    assert GapSnapshot.objects.get() == again
    assert _subtree_rows(UnitGapSnapshot, snapshot=again) != before


def test_a_snapshot_leaves_the_settings_of_its_transaction_as_they_were(rated, campaign):
    """On PostgreSQL the schools' GROUP BY runs with phase 1's memory settings, and the
    caller's transaction (closing a campaign) goes on with its own."""
    if connection.vendor != "postgresql":
        pytest.skip("settings of a PostgreSQL transaction")
    names = [name for name, _value in AGGREGATION_SETTINGS]

    def settings() -> tuple[str, ...]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
            return cursor.fetchone()

    seen = []

    def spy(cursor):
        aggregation_session(cursor)
        seen.append(settings())

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '3MB'")
        before = settings()
        with patch("educap.gaps.engine.aggregation_session", spy):
            gap_snapshot_take(actor=None, campaign=campaign)
        assert settings() == before
    assert seen == [tuple(value.strip("'") for _name, value in AGGREGATION_SETTINGS)]


def test_dashboards_of_a_past_period_show_the_numbers_as_they_were(ministry, rated, campaign):
    user, district = ministry.users["central"], ministry.units["G1D1"]
    now = GapFilters(rated.framework)
    before = unit_matrix(user=user, unit=district, filters=now)
    people_before = {
        u.code: unit_headcount(user=user, unit=u, filters=now) for u in ministry.units.values()
    }
    snapshot = gap_snapshot_take(actor=None, campaign=campaign)
    _raise_the_officer(ministry, rated)
    past = GapFilters(rated.framework, snapshot=snapshot)
    then = unit_matrix(user=user, unit=district, filters=past)
    after = unit_matrix(user=user, unit=district, filters=now)
    item = rated.items["D1.2"].pk
    assert vars(then.columns[item]) == vars(before.columns[item])
    assert vars(after.columns[item]) != vars(before.columns[item])
    # Headcounts, schools included (kept apart, since their rows have no role split).
    assert {
        u.code: unit_headcount(user=user, unit=u, filters=past) for u in ministry.units.values()
    } == people_before
    # A past period has no role split for a school: no figures, and no split in its TNA.
    teacher = ministry.people["g1d1_teacher"]
    by_role = GapFilters(rated.framework, role=teacher.role, snapshot=snapshot)
    school = teacher.unit
    assert unit_matrix(user=user, unit=school, filters=by_role).columns == {}
    needs = training_needs(user=user, unit=school, filters=past, limit=50)
    assert all(not need.below_by_role_sex for need in needs)
    # Districts and above keep it.
    district_needs = training_needs(user=user, unit=district, filters=past, limit=50)
    assert any(need.below_by_role_sex for need in district_needs)


def test_closing_a_campaign_takes_its_snapshot(
    ministry, rated, campaign, django_capture_on_commit_callbacks
):
    campaign_launch(actor=None, campaign=campaign)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_close(actor=ministry.users["admin"], campaign=campaign)
    snapshot = GapSnapshot.objects.get(campaign=campaign)
    assert snapshot.rows == len(_current_rows(rated.framework))


def test_snapshot_command(ministry, rated, campaign, capsys):
    call_command("snapshot_gaps", "--campaign", "BASELINE")
    assert "rollup rows kept for BASELINE" in capsys.readouterr().out
    assert GapSnapshot.objects.filter(campaign=campaign).exists()
    with pytest.raises(Exception, match="No campaign"):
        call_command("snapshot_gaps", "--campaign", "NOPE")


def test_the_period_filter_on_the_page_and_the_api(client, ministry, rated, campaign, api_for):
    snapshot = gap_snapshot_take(actor=None, campaign=campaign)
    _raise_the_officer(ministry, rated)
    client.force_login(ministry.users["central"])
    url = reverse("gaps:unit", args=["G1D1"])
    page = client.get(url, {"period": snapshot.pk}).content.decode()
    assert 'id="gap-period"' in page
    # The framework select shows the period's version, not an empty choice.
    framework = campaign.framework.pk
    assert re.search(rf'<option value="{framework}"[^>]* selected>', page)
    assert 'id="recruitment-now"' in page
    assert 'id="gap-period"' not in client.get(url).content.decode()
    note = client.get(url, {"period": snapshot.pk, "sex": "F"}).content.decode()
    assert 'id="period-split-note"' in note
    export = client.get(reverse("gaps:unit_export", args=["G1D1", "csv"]), {"period": snapshot.pk})
    assert "gaps-G1D1-BASELINE.csv" in export["Content-Disposition"]
    api = api_for("central")
    item = rated.items["D1.2"].code
    past = api.get("/api/v1/gaps/units/G1D1/", {"period": "BASELINE"}).json()
    current = api.get("/api/v1/gaps/units/G1D1/").json()
    cell = {c["competency"]: c for c in past["cells"]}[item]
    assert cell != {c["competency"]: c for c in current["cells"]}[item]
    assert api.get("/api/v1/gaps/units/G1D1/", {"period": "NOPE"}).status_code == 404

"""The consolidation rule: incremental refreshes and a full rebuild must agree, and both
must agree with a plain-Python reading of the documented rule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from educap.assessments.consolidation import (
    add_months,
    current_levels_expire,
    current_levels_rebuild,
    current_levels_refresh,
    parse_rule,
)
from educap.assessments.models import CurrentLevel, CurrentLevelChange, Rating
from educap.assessments.tests.factories import make_published_framework
from educap.frameworks.models import Framework, FrameworkItem

pytestmark = pytest.mark.django_db

RULE = parse_rule("supervisor,test,training,external;self")
SOURCES = ["self", "supervisor", "peer", "test", "training"]


def _expected(ratings, now, validity_months):
    best = {}
    for r in ratings:
        tier = RULE.tier_of(r.source)
        if tier is None or add_months(r.rated_at, validity_months) <= now:
            continue
        key = (r.person_id, r.item_id)
        rank = (tier, -r.rated_at.timestamp(), -r.pk)
        if key not in best or rank < best[key][0]:
            best[key] = (rank, r)
    latest: dict[tuple[int, int, str], Rating] = {}
    for r in ratings:
        if add_months(r.rated_at, validity_months) <= now:
            continue
        key = (r.person_id, r.item_id, r.source)
        if key not in latest or (r.rated_at, r.pk) > (latest[key].rated_at, latest[key].pk):
            latest[key] = r

    def value_of(key: tuple[int, int], source: str) -> int | None:
        rating = latest.get((*key, source))
        return rating.value if rating else None

    return {
        key: (r.value, r.source, r.pk, value_of(key, "self"), value_of(key, "supervisor"))
        for key, (_, r) in best.items()
    }


def _current():
    return {
        (c.person_id, c.item_id): (
            c.value,
            c.source,
            c.rating_id,
            c.self_value,
            c.supervisor_value,
        )
        for c in CurrentLevel.objects.all()
    }


rating_strategy = st.lists(
    st.tuples(
        st.integers(0, 2),  # person
        st.integers(0, 1),  # item
        st.sampled_from(SOURCES),
        st.integers(0, 4),  # value
        st.integers(0, 60),  # months ago
        st.booleans(),  # refresh the pair only, or the whole person
    ),
    max_size=25,
)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rating_strategy)
def test_incremental_equals_rebuild_equals_rule(ministry, rows):
    Rating.objects.all().delete()
    CurrentLevel.objects.all().delete()
    CurrentLevelChange.objects.all().delete()
    # Hypothesis reuses the test's database: make the framework once.
    framework = Framework.objects.filter(code="EMIS-T").first() or make_published_framework()
    items = list(FrameworkItem.objects.filter(framework=framework, kind="competency")[:2])
    people = list(ministry.people.values())[:3]
    now = timezone.now()
    for person_i, item_i, source, value, months, pair_only in rows:
        rating = Rating.objects.create(
            person=people[person_i],
            item=items[item_i],
            source=source,
            value=value,
            rated_at=now - dt.timedelta(days=30 * months + 1),
        )
        if pair_only:
            current_levels_refresh(pairs=[(rating.person_id, rating.item_id)])
        else:
            current_levels_refresh(person_ids=[rating.person_id])
    incremental = _current()
    # The change feed adds up to the current levels: every -1 row cancels an earlier +1.
    feed: dict[tuple[int, int, int, int | None, int | None], int] = {}
    for c in CurrentLevelChange.objects.order_by("pk"):
        key = (c.person_id, c.item_id, c.value, c.self_value, c.supervisor_value)
        feed[key] = feed.get(key, 0) + c.sign
    assert {k: n for k, n in feed.items() if n} == {
        (p, i, v[0], v[3], v[4]): 1 for (p, i), v in incremental.items()
    }
    current_levels_rebuild()
    assert _current() == incremental
    assert incremental == _expected(Rating.objects.all(), timezone.now(), 36)


def test_self_counts_only_without_other_evidence(ministry):
    framework = make_published_framework()
    item = FrameworkItem.objects.get(framework=framework, code="D1.1")
    person = ministry.people["g1d1_teacher"]
    now = timezone.now()
    Rating.objects.create(person=person, item=item, source="self", value=4, rated_at=now)
    Rating.objects.create(
        person=person, item=item, source="supervisor", value=2, rated_at=now - dt.timedelta(1)
    )
    Rating.objects.create(person=person, item=item, source="peer", value=1, rated_at=now)
    current_levels_refresh(person_ids=[person.pk])
    assert CurrentLevel.objects.get(person=person).value == 2


def test_expired_evidence_does_not_count(ministry):
    framework = make_published_framework(validity_months=12)
    item = FrameworkItem.objects.get(framework=framework, code="D1.1")
    person = ministry.people["g1d1_teacher"]
    now = timezone.now()
    Rating.objects.create(
        person=person, item=item, source="supervisor", value=3, rated_at=now - dt.timedelta(400)
    )
    Rating.objects.create(
        person=person, item=item, source="self", value=1, rated_at=now - dt.timedelta(100)
    )
    current_levels_refresh(person_ids=[person.pk])
    level = CurrentLevel.objects.get(person=person)
    assert (level.value, level.source) == (1, "self")
    # The self rating expires in about 265 days; until then nothing changes.
    assert level.valid_until > now
    CurrentLevel.objects.filter(pk=level.pk).update(valid_until=now - dt.timedelta(1))
    current_levels_expire()
    assert CurrentLevel.objects.get(person=person).value == 1


def test_rule_parsing():
    assert parse_rule("supervisor ; self").tiers == (("supervisor",), ("self",))
    with pytest.raises(ValueError, match="Unknown"):
        parse_rule("boss;self")


def test_add_months_clamps_the_day():
    moment = dt.datetime(2025, 1, 31, 12, tzinfo=dt.UTC)
    assert add_months(moment, 1) == dt.datetime(2025, 2, 28, 12, tzinfo=dt.UTC)
    assert add_months(moment, 13) == dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC)


def test_pairs_refreshed_in_batches_give_the_levels_and_feed_of_one_statement(
    ministry, monkeypatch
):
    """Pairs go to the database a few thousand at a time (`PG_PAIR_BATCH`, `BATCH`):
    batches of two give what one statement gives."""
    from educap.assessments import consolidation

    framework = make_published_framework()
    items = list(FrameworkItem.objects.filter(framework=framework, kind="competency")[:3])
    people = list(ministry.people.values())[:4]
    now = timezone.now()
    for n, person in enumerate(people):
        for m, item in enumerate(items):
            Rating.objects.create(
                person=person,
                item=item,
                source="supervisor" if (n + m) % 2 else "self",
                value=(n + m) % 5,
                rated_at=now - dt.timedelta(days=n + m),
            )
    pairs = [(p.pk, i.pk) for p in people for i in items]

    def refresh() -> tuple[dict, list]:
        CurrentLevel.objects.all().delete()
        CurrentLevelChange.objects.all().delete()
        current_levels_refresh(pairs=pairs)
        feed = sorted(
            CurrentLevelChange.objects.values_list(
                "person_id", "item_id", "value", "self_value", "supervisor_value", "sign"
            )
        )
        return _current(), feed

    whole = refresh()
    monkeypatch.setattr(consolidation, "PG_PAIR_BATCH", 2)
    monkeypatch.setattr(consolidation, "BATCH", 4)  # SQLite: BATCH // 2 pairs per statement
    assert refresh() == whole
    assert len(whole[0]) == len(pairs)


def test_pairs_are_looked_up_through_the_indexes_on_sqlite(ministry):
    """SQLite scans a whole table for `(a, b) IN (VALUES …)`: the refresh of a few pairs
    must reach the levels and the ratings through their (person, competency) indexes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's query planner")
    framework = make_published_framework()
    items = FrameworkItem.objects.filter(framework=framework, kind="competency")[:2]
    people = list(ministry.people.values())[:2]
    with CaptureQueriesContext(connection) as captured:
        current_levels_refresh(pairs=[(p.pk, i.pk) for p in people for i in items])
    statements = [
        q["sql"] for q in captured.captured_queries if q["sql"].startswith(("DELETE", "INSERT"))
    ]
    assert statements
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " | ".join(row[-1] for row in cursor.fetchall())
            assert "SCAN assessments_currentlevel" not in plan, plan
            assert "SCAN r " not in f"{plan} ", plan

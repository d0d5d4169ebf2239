"""The consolidation rule: ratings (evidence) → one current level per person x competency.

Rule (documented in docs/assessments.md, configured by EDUCAP_CURRENT_LEVEL_TIERS):
sources are grouped in tiers, e.g. ``supervisor,test,training,external;self``. Only
evidence younger than its framework's validity period counts. The first tier that holds
valid evidence wins; within a tier the latest rating wins (ties: the latest recorded).
Sources in no tier (peer ratings by default) never set a current level.

Everything here is set-based: one INSERT … SELECT with a window function per batch of
people, so refreshing ten people and rebuilding a million use the same statement and
give identical results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from educap.assessments.models import CurrentLevel, CurrentLevelChange, Rating, Source
from educap.assessments.signals import current_levels_changed
from educap.frameworks.models import Framework

BATCH = 2000
PG_BATCH = 50_000
# Person x competency pairs per statement on PostgreSQL: the DELETE reads each pair's leaf
# of the levels' unique index and the INSERT checks it again, and 2,500 pairs' leaves and
# heap pages stay in 128 MB of shared buffers between the two (10,000 random ratings at
# national scale: the INSERTs read 17,000 pages from disk in one statement, almost none
# in four).
PG_PAIR_BATCH = 2_500
# Refreshes of up to this many levels log their changes for the gap engine's deltas;
# a person counts as this many levels (a typical framework's competencies).
LOG_LIMIT = 50_000
LOG_ITEMS_PER_PERSON = 40
FEED_COLUMNS = "person_id, item_id, value, self_value, supervisor_value"
NO_TIER = 99


@dataclass(frozen=True)
class Rule:
    tiers: tuple[tuple[str, ...], ...]

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(source for tier in self.tiers for source in tier)

    def tier_of(self, source: str) -> int | None:
        for index, tier in enumerate(self.tiers):
            if source in tier:
                return index
        return None


def parse_rule(text: str) -> Rule:
    """``"supervisor,test;self"`` → tiers; unknown source names are refused."""
    valid = set(Source.values)
    tiers: list[tuple[str, ...]] = []
    for chunk in text.split(";"):
        sources = tuple(s.strip() for s in chunk.split(",") if s.strip())
        unknown = [s for s in sources if s not in valid]
        if unknown:
            raise ValueError(f"Unknown rating source(s) in EDUCAP_CURRENT_LEVEL_TIERS: {unknown}")
        if sources:
            tiers.append(sources)
    if not tiers:
        raise ValueError("EDUCAP_CURRENT_LEVEL_TIERS names no source.")
    return Rule(tuple(tiers))


def current_rule() -> Rule:
    return parse_rule(settings.EDUCAP_CURRENT_LEVEL_TIERS)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    # Clamp the day: 31 January + 1 month → 28/29 February.
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _months_sql(months_column: str, moment_column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({moment_column} + make_interval(months => {months_column}))"
    # SQLite keeps datetimes as ISO text; Django compares them as text, so keep its format.
    return (
        f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {moment_column}, '+' || {months_column} || ' months')"
    )


def _select_sql(rule: Rule, person_filter: str) -> str:
    rating = Rating._meta.db_table
    item_table = "frameworks_frameworkitem"
    framework_table = Framework._meta.db_table
    tier_case = " ".join(
        f"WHEN '{source}' THEN {index}" for index, tier in enumerate(rule.tiers) for source in tier
    )
    # Self and supervisor ratings are always read, for calibration, even if not in a tier.
    sources = ", ".join(f"'{s}'" for s in {*rule.sources, Source.SELF, Source.SUPERVISOR})
    valid_until = _months_sql("f.validity_months", "r.rated_at")

    def winner(column: str) -> str:
        return f"MAX(CASE WHEN position = 1 THEN {column} END)"

    def latest(source: str) -> str:
        return f"MAX(CASE WHEN source = '{source}' AND source_position = 1 THEN value END)"

    # Table names and source codes come from models and the validated rule, never input.
    return f"""
        SELECT person_id, item_id, {winner("value")}, {winner("source")}, {winner("id")},
               {winner("rated_at")}, {winner("valid_until")},
               {latest(Source.SELF)}, {latest(Source.SUPERVISOR)}
        FROM (
            SELECT r.person_id, r.item_id, r.value, r.source, r.id, r.rated_at,
                   {valid_until} AS valid_until,
                   CASE r.source {tier_case} ELSE {NO_TIER} END AS tier,
                   ROW_NUMBER() OVER (
                       PARTITION BY r.person_id, r.item_id
                       ORDER BY CASE r.source {tier_case} ELSE {NO_TIER} END,
                                r.rated_at DESC, r.id DESC
                   ) AS position,
                   ROW_NUMBER() OVER (
                       PARTITION BY r.person_id, r.item_id, r.source
                       ORDER BY r.rated_at DESC, r.id DESC
                   ) AS source_position
            FROM {rating} r
            JOIN {item_table} i ON i.id = r.item_id
            JOIN {framework_table} f ON f.id = i.framework_id
            WHERE r.source IN ({sources}) AND {valid_until} > %s {person_filter}
        ) ranked
        GROUP BY person_id, item_id
        HAVING MIN(tier) < {NO_TIER}
    """  # noqa: S608


def _insert(
    rule: Rule, person_filter: str, params: Sequence[Any], *, returning_to_feed: bool = False
) -> None:
    table = CurrentLevel._meta.db_table
    sql = (
        f"INSERT INTO {table} (person_id, item_id, value, source, rating_id, rated_at, "
        f"valid_until, self_value, supervisor_value) " + _select_sql(rule, person_filter)
    )
    if returning_to_feed:  # PostgreSQL: the new rows go to the change feed as they are made
        feed = CurrentLevelChange._meta.db_table
        sql = (
            f"WITH new AS ({sql} RETURNING {FEED_COLUMNS}) "  # noqa: S608
            f"INSERT INTO {feed} ({FEED_COLUMNS}, sign) SELECT *, 1 FROM new"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_now_param(), *params])


def _now_param() -> dt.datetime | str:
    now = timezone.now()
    if connection.vendor == "sqlite":
        # Same text format as the stored values (naive UTC, microseconds).
        return now.astimezone(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return now


def _filters(
    ids: Sequence[int], pairs: Sequence[tuple[int, int]]
) -> Iterator[tuple[str, list[Any]]]:
    """Batches of people (or of person x competency pairs) as a WHERE fragment with
    `{person}`/`{item}` placeholders for the columns, and its parameters."""
    if connection.vendor == "postgresql":
        # One array parameter per statement: big batches without a parameter per id.
        for start in range(0, len(ids), PG_BATCH):
            yield "AND {person} = ANY(%s)", [ids[start : start + PG_BATCH]]
        for start in range(0, len(pairs), PG_PAIR_BATCH):
            chunk = pairs[start : start + PG_PAIR_BATCH]
            yield (
                "AND ({person}, {item}) IN (SELECT * FROM unnest(%s::bigint[], %s::bigint[]))",
                [[p for p, _ in chunk], [i for _, i in chunk]],
            )
        return
    for start in range(0, len(ids), BATCH):
        people = ids[start : start + BATCH]
        yield f"AND {{person}} IN ({', '.join(['%s'] * len(people))})", list(people)
    for start in range(0, len(pairs), BATCH // 2):
        chunk = pairs[start : start + BATCH // 2]
        values = ", ".join(["(%s, %s)"] * len(chunk))
        # Through a subquery: SQLite answers `(a, b) IN (VALUES …)` by scanning the whole
        # table (40 million levels at national scale: 12 s per batch), and this form by
        # its (person, competency) index.
        yield (
            f"AND ({{person}}, {{item}}) IN (SELECT column1, column2 FROM (VALUES {values}))",  # noqa: S608 - placeholders only
            [v for pair in chunk for v in pair],
        )


def _log_changes(where: str, params: Sequence[Any], sign: int) -> None:
    """Copy the current levels matched by `where` into the change feed with `sign`."""
    table = CurrentLevel._meta.db_table
    log = CurrentLevelChange._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {log} ({FEED_COLUMNS}, sign) "  # noqa: S608
            f"SELECT {FEED_COLUMNS}, {int(sign)} "
            f"FROM {table} WHERE TRUE {where}",
            params,
        )


def current_levels_refresh(
    *,
    person_ids: Iterable[int] = (),
    pairs: Iterable[tuple[int, int]] = (),
    rule: Rule | None = None,
) -> int:
    """Recompute the current levels of these people (every competency) and of these
    person x competency pairs from their evidence. Returns how many people.

    A refresh of up to `LOG_LIMIT` levels also writes its changes to the change feed, so
    the gap rollups follow by deltas; a bigger one is announced by people only."""
    rule = rule or current_rule()
    ids = sorted(set(person_ids))
    whole = set(ids)
    pair_list = sorted({(p, i) for p, i in pairs if p not in whole})
    logged = len(ids) * LOG_ITEMS_PER_PERSON + len(pair_list) <= LOG_LIMIT
    table = CurrentLevel._meta.db_table
    feed = CurrentLevelChange._meta.db_table
    for where, params in _filters(ids, pair_list):
        current = where.format(person="person_id", item="item_id")
        evidence = where.format(person="r.person_id", item="r.item_id")
        with transaction.atomic(), connection.cursor() as cursor:
            if logged and connection.vendor == "postgresql":
                # One pass over the levels each way: the statements hand their rows to
                # the feed (RETURNING) instead of reading them again.
                cursor.execute(
                    f"WITH old AS (DELETE FROM {table} WHERE TRUE {current} "  # noqa: S608
                    f"RETURNING {FEED_COLUMNS}) "
                    f"INSERT INTO {feed} ({FEED_COLUMNS}, sign) SELECT *, -1 FROM old",
                    params,
                )
                _insert(rule, evidence, params, returning_to_feed=True)
                continue
            if logged:
                _log_changes(current, params, -1)
            cursor.execute(f"DELETE FROM {table} WHERE TRUE {current}", params)  # noqa: S608
            _insert(rule, evidence, params)
            if logged:
                _log_changes(current, params, 1)
    people = sorted({*ids, *(p for p, _ in pair_list)})
    if people:
        current_levels_changed.send(sender=CurrentLevel, person_ids=people, logged=logged)
    return len(people)


def current_levels_rebuild(*, rule: Rule | None = None) -> int:
    """Throw every current level away and derive them all again from the evidence."""
    rule = rule or current_rule()
    with transaction.atomic():
        CurrentLevel.objects.all().delete()
        _insert(rule, "", [])
    current_levels_changed.send(sender=CurrentLevel, person_ids=None, logged=False)
    return CurrentLevel.objects.count()


def current_levels_expire() -> int:
    """Recompute the levels whose evidence has expired (run daily). Returns how many
    people were concerned."""
    expired = CurrentLevel.objects.filter(valid_until__lte=timezone.now()).values_list(
        "person_id", "item_id"
    )
    return current_levels_refresh(pairs=list(expired))

"""The gap engine: two-phase, set-based aggregation into `UnitGap`.

Phase 1 reads every current level once, joined to a narrow table of staff (person, unit,
role, sex, and whether the unit has child units) and to the resolved requirements: units
with child units get their own staff by role and sex (`OWN`), and the staff of their child
schools by role and sex (`LEAF_CHILDREN`): the role x sex split of a whole district's
schools in a few thousand rows instead of one row per school x role x sex. A plain GROUP BY
over the levels plus one headcount row per group of people sharing unit, role and sex
(never the product of people x requirements joined to levels).
Phase 2, depth by depth from the leaves up: a unit's `SUBTREE` rows are its `OWN` and
`LEAF_CHILDREN` rows plus its non-leaf children's `SUBTREE` rows; then its `TOTAL` rows,
the `SUBTREE` rows summed over roles and sexes (what a heat map without filters reads).

Schools (units without child units) store nothing: a page reads the schools it shows from
their people's current levels (`unit_rows`, the statement of phase 1; about eight people
each at national scale, so 25 schools are a few thousand levels). Stored, their rows were
nine in ten of all rollup rows, and every rating updated one of them on a page of its own.

Two incremental paths keep the rollups current:
- level changes (the usual case: new ratings) arrive in the change feed
  (`CurrentLevelChange`) and are applied as signed deltas to the rows of the person's unit
  (if it has child units), its parent's `LEAF_CHILDREN` row (if not) and every ancestor
  (`SUBTREE` and `TOTAL`) — a few rows per change, whatever the size of the ministry;
- changes of posts, roles, units or people's status recompute the units touched and their
  ancestors with the very statements of a rebuild, so they cannot disagree with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from educap.assessments.models import CurrentLevel, CurrentLevelChange
from educap.frameworks.models import FrameworkStatus, RoleProfile
from educap.frameworks.selectors import profile_requirements
from educap.gaps.models import RoleRequirement, Scope, UnitGap
from educap.org.models import OrgUnit
from educap.people.models import Person

BATCH = 2000
# Refreshing more than this share of all units is done as a rebuild.
REBUILD_SHARE = 0.5
COUNTS = (
    "in_scope",
    "assessed",
    "meeting",
    "below",
    "gap_sum",
    "weighted_gap_sum",
    "weighted_required_sum",
    "calibration_pairs",
    "calibration_sum",
)
GAP_TABLE = UnitGap._meta.db_table
KEYS = "unit_id, item_id, role_id, sex, scope"
PERSON = Person._meta.db_table
UNIT = OrgUnit._meta.db_table
REQUIREMENT = RoleRequirement._meta.db_table
LEVEL = CurrentLevel._meta.db_table
FEED = CurrentLevelChange._meta.db_table
# Temporary tables of one transaction.
STAFF_TABLE = "gaps_staff"
TOUCHED_TABLE = "gaps_touched"
DELTA_TABLE = "gaps_delta"
CHANGED_TABLE = "gaps_changed"
TARGETS_TABLE = "gaps_targets"


def requirements_materialise() -> int:
    """Resolve every published role profile (inheritance included) into RoleRequirement."""
    profiles = RoleProfile.objects.filter(
        framework__status=FrameworkStatus.PUBLISHED, role__isnull=False
    ).select_related("base", "framework")
    rows = []
    for profile in profiles:
        if profile.role_id is None:  # excluded by the query; keeps the type checker informed
            continue
        for item_id, req in profile_requirements(profile=profile).items():
            rows.append(
                RoleRequirement(
                    framework_id=profile.framework_id,
                    role_id=profile.role_id,
                    item_id=item_id,
                    required=req.level.value,
                    weight=req.weight,
                )
            )
    with transaction.atomic():
        RoleRequirement.objects.all().delete()
        RoleRequirement.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def _has_children(column: str) -> str:
    return f"EXISTS (SELECT 1 FROM {UNIT} k WHERE k.parent_id = {column})"  # noqa: S608


def _contributions(level: str, *, sign: str = "1") -> dict[str, str]:
    """What one current level (columns of alias `level`, requirement `rr`) adds to each
    count but the headcount, times `sign`."""
    met = f"{level}.value >= rr.required"
    short = f"{level}.value < rr.required"
    paired = f"{level}.self_value IS NOT NULL AND {level}.supervisor_value IS NOT NULL"
    return {
        "assessed": sign,
        "meeting": f"{sign} * CASE WHEN {met} THEN 1 ELSE 0 END",
        "below": f"{sign} * CASE WHEN {short} THEN 1 ELSE 0 END",
        "gap_sum": f"{sign} * CASE WHEN {short} THEN rr.required - {level}.value ELSE 0 END",
        "weighted_gap_sum": (
            f"{sign} * CASE WHEN {short} THEN rr.weight * (rr.required - {level}.value) ELSE 0 END"
        ),
        "weighted_required_sum": f"{sign} * rr.weight * rr.required",
        "calibration_pairs": f"{sign} * CASE WHEN {paired} THEN 1 ELSE 0 END",
        "calibration_sum": (
            f"{sign} * CASE WHEN {paired} THEN {level}.self_value - {level}.supervisor_value "
            f"ELSE 0 END"
        ),
    }


def _staff_sql(person_filter: str = "") -> str:
    """One row per active person with a unit: person_id, unit_id, role_id, sex, leaf (1 when
    the unit has no child units), and where the person counts by role and sex: target_id
    (the unit, or the parent of a leaf unit) and target_scope (OWN or LEAF_CHILDREN; NULL
    for a leaf unit without a parent)."""
    return f"""
        SELECT p.id AS person_id, p.unit_id, p.role_id, p.sex,
               CASE WHEN k.parent_id IS NULL THEN 1 ELSE 0 END AS leaf,
               CASE WHEN k.parent_id IS NULL THEN u.parent_id ELSE p.unit_id END AS target_id,
               CASE WHEN k.parent_id IS NOT NULL THEN {Scope.OWN}
                    WHEN u.parent_id IS NOT NULL THEN {Scope.LEAF_CHILDREN} END AS target_scope
        FROM {PERSON} p
        JOIN {UNIT} u ON u.id = p.unit_id
        LEFT JOIN (SELECT DISTINCT parent_id FROM {UNIT} WHERE parent_id IS NOT NULL) k
            ON k.parent_id = p.unit_id
        WHERE p.is_active {person_filter}
    """  # noqa: S608


def _rollup_select(
    staff: str,
    *,
    grain: str,
    where: str = "TRUE",
    requirement_filter: str = "",
    per_person: bool = False,
) -> str:
    """Phase 1 over the staff rows `staff` (a table, or a parenthesised `_staff_sql`) that
    match `where`, one row per
    - grain "leaf": unit x competency (schools read live, and kept in snapshots; scope BOTH);
    - grain "parent": target unit x competency x role x sex x target scope (what units with
      child units store as OWN and LEAF_CHILDREN);
    - grain "own": unit x competency x role x sex (schools read live by role and sex;
      scope OWN).
    Columns as `KEYS` (NULL role and blank sex for "leaf") and `COUNTS`.

    Two inputs, added up by one GROUP BY: a row per current level a requirement asks for,
    and a headcount row per group of people sharing unit, role and sex, repeated for each
    requirement the role has.

    `per_person` (a few hundred people, PostgreSQL): each person's levels are read in one
    range of the levels' index (`OFFSET 0` keeps the subquery apart), not one probe per
    person x requirement: a page of 25 schools in a third of the time."""
    levels = _contributions("cl")
    level_columns = ", ".join(f"{expr} AS {name}" for name, expr in levels.items())
    zeros = ", ".join(f"0 AS {name}" for name in levels)
    sums = ", ".join(f"SUM({name}) AS {name}" for name in COUNTS)
    assert ("in_scope", *levels) == COUNTS
    unit, groups, scope, out = {
        "leaf": ("unit_id", [], str(Scope.BOTH), "CAST(NULL AS BIGINT) AS role_id, '' AS sex"),
        "parent": ("target_id", ["role_id", "sex", "target_scope"], "target_scope", "role_id, sex"),
        "own": ("unit_id", ["role_id", "sex"], str(Scope.OWN), "role_id, sex"),
    }[grain]
    head = ", ".join([*(f"c.{g}" for g in groups), "c.headcount AS in_scope", zeros])
    body = ", ".join([*(f"s.{g}" for g in groups), "0 AS in_scope", level_columns])
    # The headcounts are grouped by role as well, to join the role's requirements.
    counted = ", ".join(f"s.{c}" for c in dict.fromkeys([unit, "role_id", *groups]))
    grouped = ", ".join([unit, "item_id", *groups])
    source = f"FROM {LEVEL} cl JOIN {staff} s ON s.person_id = cl.person_id"
    if per_person:
        source = (
            f"FROM {staff} s JOIN LATERAL (SELECT item_id, value, self_value, supervisor_value "  # noqa: S608
            f"FROM {LEVEL} l WHERE l.person_id = s.person_id OFFSET 0) cl ON TRUE"
        )
    # Identifiers come from model metadata, never from input.
    return f"""
        SELECT {unit} AS unit_id, item_id, {out}, {scope} AS scope, {sums} FROM (
            SELECT c.{unit}, rr.item_id, {head}
            FROM (
                SELECT {counted}, COUNT(*) AS headcount
                FROM {staff} s WHERE {where}
                GROUP BY {counted}
            ) c
            JOIN {REQUIREMENT} rr ON rr.role_id = c.role_id {requirement_filter}
            UNION ALL
            SELECT s.{unit}, rr.item_id, {body}
            {source}
            JOIN {REQUIREMENT} rr ON rr.role_id = s.role_id AND rr.item_id = cl.item_id
                {requirement_filter}
            WHERE {where}
        ) parts
        GROUP BY {grouped}
    """  # noqa: S608


# Phase 1 reads the staff counted by role and sex in a unit with child units.
PHASE1 = "s.target_scope IS NOT NULL"


def _phase1_sql(staff: str, *, where: str = "TRUE") -> str:
    """Insert the phase-1 rows (a few hundred thousand at national scale) in unit order,
    so that a unit's rows share a few pages."""
    cols = ", ".join(COUNTS)
    select = _rollup_select(staff, grain="parent", where=f"{where} AND {PHASE1}")
    return f"""
        INSERT INTO {GAP_TABLE} ({KEYS}, {cols})
        SELECT * FROM ({select}) phase1 ORDER BY unit_id
    """  # noqa: S608


def school_rows_sql(*, requirement_filter: str = "") -> str:
    """Every school's (unit without child units) counts per competency, scope `BOTH`, as
    `_rollup_select` columns: what a snapshot keeps of schools, which store nothing."""
    staff = f"({_staff_sql()})"
    return _rollup_select(
        staff, grain="leaf", where="s.leaf = 1", requirement_filter=requirement_filter
    )


def _subtree_sql(unit_filter: str = "") -> str:
    """Phase 2 for the units with children at one depth (`%s` twice: depth, depth + 1):
    their own and leaf-children rows plus their non-leaf children's subtree rows.
    `unit_filter` restricts the units (a condition on `{column}`)."""
    sums = ", ".join(f"SUM({c})" for c in COUNTS)
    cols = ", ".join(COUNTS)
    return f"""
        INSERT INTO {GAP_TABLE} ({KEYS}, {cols})
        SELECT unit_id, item_id, role_id, sex, {Scope.SUBTREE}, {sums} FROM (
            SELECT g.unit_id, g.item_id, g.role_id, g.sex, {cols}
            FROM {GAP_TABLE} g
            WHERE g.scope IN ({Scope.OWN}, {Scope.LEAF_CHILDREN}) AND g.unit_id IN (
                SELECT u.id FROM {UNIT} u
                WHERE u.depth = %s {unit_filter.format(column="u.id")}
            )
            UNION ALL
            SELECT u.parent_id, g.item_id, g.role_id, g.sex, {cols}
            FROM {GAP_TABLE} g JOIN {UNIT} u ON u.id = g.unit_id
            WHERE g.scope = {Scope.SUBTREE} AND g.unit_id IN (
                SELECT u.id FROM {UNIT} u
                WHERE u.depth = %s {unit_filter.format(column="u.parent_id")}
            )
        ) parts
        GROUP BY unit_id, item_id, role_id, sex
        ORDER BY unit_id
    """  # noqa: S608


def _total_sql(unit_filter: str = "") -> str:
    """The `TOTAL` rows (role empty, sex blank) of units with child units: their `SUBTREE`
    rows summed over roles and sexes, after phase 2. `unit_filter` restricts the units (a
    condition on `unit_id`)."""
    sums = ", ".join(f"SUM({c})" for c in COUNTS)
    cols = ", ".join(COUNTS)
    return f"""
        INSERT INTO {GAP_TABLE} ({KEYS}, {cols})
        SELECT unit_id, item_id, NULL, '', {Scope.TOTAL}, {sums}
        FROM {GAP_TABLE}
        WHERE scope = {Scope.SUBTREE} {unit_filter}
        GROUP BY unit_id, item_id
        ORDER BY unit_id
    """  # noqa: S608


def _execute(sql: str, params: Sequence[int] = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _depths() -> list[int]:
    """Depths of units that have children, deepest first."""
    parents = OrgUnit.objects.filter(pk__in=OrgUnit.objects.values("parent_id"))
    return sorted(set(parents.values_list("depth", flat=True).distinct()), reverse=True)


def _lock_feed() -> None:
    """Hold writers of the change feed until this transaction ends, so that no level
    change commits between reading the feed and reading the levels."""
    if connection.vendor == "postgresql":
        _execute(f"LOCK TABLE {FEED} IN SHARE ROW EXCLUSIVE MODE")
    # SQLite: a writing transaction already excludes every other writer.


def _stage_staff(person_filter: str = "") -> None:
    """(Re)create the temporary staff table phase 1 reads (see `_staff_sql`)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAFF_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {STAFF_TABLE} AS {_staff_sql(person_filter)}")
        if connection.vendor == "postgresql":
            # Its size decides the plan: a refresh's few thousand people are joined to
            # their levels through the index, a rebuild's million by hashing.
            cursor.execute(f"ANALYZE {STAFF_TABLE}")


# Settings of a big aggregation: the hash aggregates in memory (about 150 bytes per
# group, half a million groups at national scale), no parallel workers (an INSERT never
# uses them), no JIT (no gain on these plans).
AGGREGATION_SETTINGS = (
    ("work_mem", "'1GB'"),
    ("hash_mem_multiplier", "2"),
    ("max_parallel_workers_per_gather", "0"),
    ("jit", "off"),
)


def aggregation_session(cursor: Any) -> None:
    """For the rest of this transaction (PostgreSQL), `AGGREGATION_SETTINGS`: phase 1 and
    the like (see `aggregating` for a caller inside a longer transaction)."""
    for name, value in AGGREGATION_SETTINGS:
        cursor.execute(f"SET LOCAL {name} = {value}")


@contextmanager
def aggregating(cursor: Any) -> Iterator[None]:
    """`AGGREGATION_SETTINGS` for the statements inside (PostgreSQL; nothing elsewhere),
    then the transaction's own settings again: a snapshot's schools (about 5 million
    groups) inside whatever transaction closes the campaign."""
    if connection.vendor != "postgresql":
        yield
        return
    names = [name for name, _value in AGGREGATION_SETTINGS]
    cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
    before = cursor.fetchone()
    aggregation_session(cursor)
    try:
        yield
    finally:
        for name, value in zip(names, before, strict=True):
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def _rebuild_postgresql() -> None:
    """The PostgreSQL rebuild: the rollup table emptied, its indexes and primary key
    dropped, phase 1 inserted, the indexes built once (cheaper than maintaining them
    through the inserts; phase 2 then reads the lower levels through them).

    Phase 1 is one statement on one connection: it reads the 40 million levels of a
    national ministry from disk, and two connections aggregating half of the units each
    (both reading every level) took longer, not shorter (bench/RESULTS.md)."""
    with connection.cursor() as cursor:
        aggregation_session(cursor)
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute(f"ANALYZE {REQUIREMENT}")
        # TRUNCATE instead of DELETE: no dead rows to vacuum; readers wait for the commit.
        cursor.execute(f"TRUNCATE {GAP_TABLE}")
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname "
            "FROM pg_index i LEFT JOIN pg_constraint c "
            "ON c.conindid = i.indexrelid AND c.contype = 'p' "
            "WHERE i.indrelid = %s::regclass",
            [GAP_TABLE],
        )
        indexes = cursor.fetchall()
        for name, _definition, constraint in indexes:
            if constraint:
                cursor.execute(f"ALTER TABLE {GAP_TABLE} DROP CONSTRAINT {constraint}")
            else:
                cursor.execute(f"DROP INDEX {name}")
        _stage_staff()
        cursor.execute(_phase1_sql(STAFF_TABLE))
        cursor.execute(f"DROP TABLE {STAFF_TABLE}")
        for _name, definition, constraint in indexes:
            if constraint:
                cursor.execute(
                    f"ALTER TABLE {GAP_TABLE} ADD CONSTRAINT {constraint} PRIMARY KEY (id)"
                )
            else:
                cursor.execute(definition)
        cursor.execute(f"ANALYZE {GAP_TABLE}")
        for depth in _depths():
            cursor.execute(_subtree_sql(), [depth, depth + 1])
        cursor.execute(_total_sql())
        # Again with the subtree rows: planned on the statistics of phase 1 alone (no
        # SUBTREE rows), a national page joined 19,440 rows one by one (120 ms, not 10)
        # until autovacuum came by.
        cursor.execute(f"ANALYZE {GAP_TABLE}")


def gaps_rebuild(*, materialise: bool = True) -> int:
    """Recompute every rollup from scratch. Returns the number of rows stored."""
    if materialise:
        requirements_materialise()
    with transaction.atomic():
        _lock_feed()
        # The levels read below already hold every change in the feed.
        CurrentLevelChange.objects.all().delete()
        if connection.vendor == "postgresql":
            _rebuild_postgresql()
            return UnitGap.objects.count()
        UnitGap.objects.all().delete()
        _stage_staff()
        _execute(_phase1_sql(STAFF_TABLE))
        for depth in _depths():
            _execute(_subtree_sql(), [depth, depth + 1])
        _execute(_total_sql())
        _execute(f"DROP TABLE {STAFF_TABLE}")
        return UnitGap.objects.count()


def unit_rows(
    *,
    unit_ids: Sequence[int],
    framework_id: int,
    role_id: int | None = None,
    sex: str = "",
    by_role_sex: bool = True,
) -> list[dict[str, Any]]:
    """The counts of the staff posted in these units, per unit x competency x role x sex
    (or, without `by_role_sex`, per unit x competency with role None and sex blank),
    straight from the current levels: how schools, which store nothing, are read.
    Optionally one role, one sex. One query; the cost grows with the people of these
    units."""
    if not unit_ids:
        return []
    people, params = _staff_filter(unit_ids, role_id, sex)
    # Every person counts at their own unit: the staff rows' unit_id, grouped by role.
    staff = (
        f"(SELECT p.id AS person_id, p.unit_id, p.role_id, p.sex FROM {PERSON} p "  # noqa: S608
        f"WHERE {people})"
    )
    sql = _rollup_select(
        staff,
        grain="own" if by_role_sex else "leaf",
        requirement_filter="AND rr.framework_id = %s",
        per_person=connection.vendor == "postgresql",
    )
    # Placeholders in text order: headcount staff, its requirement; levels' staff, theirs.
    return _live_query(sql, [*params, framework_id, *params, framework_id])


def _staff_filter(unit_ids: Sequence[int], role_id: int | None, sex: str) -> tuple[str, list[Any]]:
    """The condition on people `p` of a live read, and its parameters."""
    marks = ", ".join(["%s"] * len(unit_ids))
    condition = f"p.is_active AND p.unit_id IN ({marks})"
    params: list[Any] = [*unit_ids]
    if role_id is not None:
        condition += " AND p.role_id = %s"
        params.append(role_id)
    if sex:
        condition += " AND p.sex = %s"
        params.append(sex)
    return condition, params


def _live_query(sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The planner takes a person for hundreds of levels (its estimate of distinct
            # people in 40 million levels is low) and would compile the query: 50 ms.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def staff_meeting(
    *,
    unit_ids: Sequence[int],
    framework_id: int,
    weight: int,
    role_id: int | None = None,
    sex: str = "",
) -> list[dict[str, Any]]:
    """Per unit x role x competency of at least `weight`: the staff posted in these units
    whom the role asks for it (`in_scope`) and how many of them meet it (`meeting`),
    straight from the current levels. What recruitment needs read of schools: one lookup
    of one level per person and competency asked for, not every level of each person."""
    if not unit_ids:
        return []
    people, params = _staff_filter(unit_ids, role_id, sex)
    sql = f"""
        SELECT p.unit_id, p.role_id, rr.item_id, COUNT(*) AS in_scope,
               SUM(CASE WHEN cl.value >= rr.required THEN 1 ELSE 0 END) AS meeting
        FROM {PERSON} p
        JOIN {REQUIREMENT} rr ON rr.role_id = p.role_id
            AND rr.framework_id = %s AND rr.weight >= %s
        LEFT JOIN {LEVEL} cl ON cl.person_id = p.id AND cl.item_id = rr.item_id
        WHERE {people}
        GROUP BY p.unit_id, p.role_id, rr.item_id
    """  # noqa: S608
    return _live_query(sql, [framework_id, weight, *params])


def _changed_sql(last: int) -> str:
    """The feed's rows up to id `last` with their people's unit, role and sex and their
    signed contributions to each count (a few thousand rows: see `_apply_feed`)."""
    deltas = _contributions("f", sign="f.sign")
    columns = ", ".join(f"{expr} AS {name}" for name, expr in deltas.items())
    return f"""
        SELECT p.unit_id, rr.item_id, p.role_id, p.sex, {columns}
        FROM {FEED} f
        JOIN {PERSON} p ON p.id = f.person_id
        JOIN {REQUIREMENT} rr ON rr.role_id = p.role_id AND rr.item_id = f.item_id
        WHERE f.id <= {int(last)} AND p.is_active AND p.unit_id IS NOT NULL
    """  # noqa: S608


def _targets_sql() -> str:
    """Every rollup row the units of `CHANGED_TABLE` add to: (unit_id, target_id, scope) —
    a unit with child units itself (OWN and SUBTREE), the LEAF_CHILDREN row of a school's
    parent, and every ancestor (SUBTREE). A school itself stores nothing."""
    scopes = " UNION ALL ".join(f"SELECT {s} AS scope" for s in (Scope.OWN, Scope.SUBTREE))
    return f"""
        WITH RECURSIVE units AS (
            SELECT u.id, u.parent_id,
                   CASE WHEN {_has_children("u.id")} THEN 0 ELSE 1 END AS leaf
            FROM {UNIT} u WHERE u.id IN (SELECT DISTINCT unit_id FROM {CHANGED_TABLE})
        ),
        up (unit_id, ancestor_id) AS (
            SELECT id, parent_id FROM units WHERE parent_id IS NOT NULL
            UNION ALL
            SELECT up.unit_id, u.parent_id FROM up JOIN {UNIT} u ON u.id = up.ancestor_id
            WHERE u.parent_id IS NOT NULL
        )
        SELECT unit_id, ancestor_id AS target_id, {Scope.SUBTREE} AS scope FROM up
        UNION ALL
        SELECT id, parent_id, {Scope.LEAF_CHILDREN} FROM units
        WHERE leaf = 1 AND parent_id IS NOT NULL
        UNION ALL
        SELECT units.id, units.id, s.scope FROM units CROSS JOIN ({scopes}) s
        WHERE units.leaf = 0
    """  # noqa: S608


def _delta_sql() -> str:
    """Signed contributions of the changes (`CHANGED_TABLE`) to each rollup row they touch
    (`TARGETS_TABLE`), in the lookup index's order. People are taken as they are now; a
    person whose post changed since is recomputed by the refresh that the change of post
    scheduled."""
    sums = ", ".join(f"SUM(c.{name}) AS {name}" for name in _contributions("f"))
    return f"""
        SELECT t.target_id AS unit_id, t.scope, c.item_id, c.role_id, c.sex, {sums}
        FROM {CHANGED_TABLE} c JOIN {TARGETS_TABLE} t ON t.unit_id = c.unit_id
        GROUP BY t.target_id, t.scope, c.item_id, c.role_id, c.sex
        ORDER BY t.target_id, t.scope, c.item_id
    """  # noqa: S608


def _apply_feed() -> int:
    """Apply and empty the change feed (the caller holds the feed lock). Returns the
    number of feed rows applied."""
    last = CurrentLevelChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    if last is None:
        return 0
    changes = [c for c in COUNTS if c != "in_scope"]
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for table in (CHANGED_TABLE, TARGETS_TABLE, DELTA_TABLE):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        if postgresql:
            # Small statements that the planner estimates big (the recursive walk up the
            # tree): JIT compilation would cost more than they do, and a few thousand
            # groups fit in memory.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
        # A few thousand people, their units and rollup rows, each looked up through an
        # index: the planner, not knowing how few, would hash the whole people and unit
        # tables, and without statistics on the temporary tables (an ANALYZE costs more
        # than it saves) might scan every rollup row.
        _nested_loops(cursor, only=True)
        cursor.execute(f"CREATE TEMPORARY TABLE {CHANGED_TABLE} AS {_changed_sql(last)}")
        cursor.execute(f"CREATE TEMPORARY TABLE {TARGETS_TABLE} AS {_targets_sql()}")
        # The changes times their targets: tens of thousands of rows, hashed.
        _nested_loops(cursor, only=False)
        cursor.execute(f"CREATE TEMPORARY TABLE {DELTA_TABLE} AS {_delta_sql()}")
        _nested_loops(cursor, only=True)
        assignments = ", ".join(f"{c} = {GAP_TABLE}.{c} + d.{c}" for c in changes)
        matches = " AND ".join(
            f"{GAP_TABLE}.{k} = d.{k}" for k in ("unit_id", "scope", "item_id", "role_id", "sex")
        )
        cursor.execute(
            f"UPDATE {GAP_TABLE} SET {assignments} FROM {DELTA_TABLE} d "  # noqa: S608
            f"WHERE {matches}"
        )
        # The TOTAL rows (role empty: no match on it) take their units' SUBTREE deltas
        # summed over roles and sexes.
        sums = ", ".join(f"SUM({c}) AS {c}" for c in changes)
        cursor.execute(
            f"UPDATE {GAP_TABLE} SET {assignments} FROM ("  # noqa: S608
            f"SELECT unit_id, item_id, {sums} FROM {DELTA_TABLE} "
            f"WHERE scope = {Scope.SUBTREE} GROUP BY unit_id, item_id) d "
            f"WHERE {GAP_TABLE}.unit_id = d.unit_id AND {GAP_TABLE}.scope = {Scope.TOTAL} "
            f"AND {GAP_TABLE}.item_id = d.item_id"
        )
        _nested_loops(cursor, only=False)
        for table in (CHANGED_TABLE, TARGETS_TABLE, DELTA_TABLE):
            cursor.execute(f"DROP TABLE {table}")
        if postgresql:
            # Writers of the feed wait for the lock this transaction holds, and every row
            # committed before it was granted is at most `last`: the feed holds exactly
            # the rows just applied. Emptying the table costs a few milliseconds where
            # deleting 20,000 rows cost 0.1–0.3 s and left them to vacuum.
            applied = CurrentLevelChange.objects.filter(pk__lte=last).count()
            cursor.execute(f"TRUNCATE {FEED}")
            return applied
    return CurrentLevelChange.objects.filter(pk__lte=last).delete()[0]


def _nested_loops(cursor: Any, *, only: bool) -> None:
    """On PostgreSQL, join only by nested loops (index lookups), or again by any join,
    for the rest of the transaction."""
    if connection.vendor == "postgresql":
        value = "off" if only else "on"
        cursor.execute(f"SET LOCAL enable_hashjoin = {value}")
        cursor.execute(f"SET LOCAL enable_mergejoin = {value}")


@transaction.atomic
def gaps_apply_changes() -> int:
    """Bring the rollups up to date with the change feed of current levels. Returns the
    number of changes applied (two per changed level: as it was, as it is)."""
    _lock_feed()
    return _apply_feed()


def _ancestors(unit_ids: Iterable[int]) -> dict[int, int]:
    """The units and all their ancestors, with their depths."""
    leaves = sorted(set(unit_ids))
    paths: list[str] = []
    for start in range(0, len(leaves), BATCH):
        paths += OrgUnit.objects.filter(pk__in=leaves[start : start + BATCH]).values_list(
            "path", flat=True
        )
    touched = sorted({int(pk) for path in paths for pk in path.strip("/").split("/") if pk})
    depth_of: dict[int, int] = {}
    for start in range(0, len(touched), BATCH):
        depth_of.update(
            OrgUnit.objects.filter(pk__in=touched[start : start + BATCH]).values_list("pk", "depth")
        )
    return depth_of


def gaps_refresh(*, person_ids: Iterable[int] = (), unit_ids: Iterable[int] = ()) -> int:
    """Recompute the rollups of the units of these people (their current units) and of
    these units (e.g. a person's former unit), with all their ancestors, after applying
    the change feed. Returns the number of units recomputed."""
    units = set(unit_ids)
    people = sorted(set(person_ids))
    for start in range(0, len(people), BATCH):
        units.update(
            Person.objects.filter(
                pk__in=people[start : start + BATCH], unit__isnull=False
            ).values_list("unit_id", flat=True)
        )
    if not units:
        gaps_apply_changes()
        return 0
    depth_of = _ancestors(units)
    if len(depth_of) > REBUILD_SHARE * OrgUnit.objects.count():
        # Most of the tree is touched: one rebuild is cheaper than refreshing it in pieces,
        # and gives the same rows.
        gaps_rebuild(materialise=False)
        return len(depth_of)
    touched = sorted(depth_of)
    inside = f"IN (SELECT unit_id FROM {TOUCHED_TABLE})"  # noqa: S608
    with transaction.atomic():
        _lock_feed()
        _apply_feed()
        if connection.vendor == "postgresql":
            # Small statements planned as big ones: JIT compilation would cost more than
            # the query.
            _execute("SET LOCAL jit = off")
        _execute(f"DROP TABLE IF EXISTS {TOUCHED_TABLE}")
        _execute(f"CREATE TEMPORARY TABLE {TOUCHED_TABLE} (unit_id bigint PRIMARY KEY)")
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {TOUCHED_TABLE} (unit_id) VALUES (%s)",  # noqa: S608
                [(pk,) for pk in touched],
            )
        _execute(f"DELETE FROM {GAP_TABLE} WHERE unit_id {inside}")  # noqa: S608
        # The people of the touched units, and of their child schools (whose role x sex
        # split is stored in the touched parent's LEAF_CHILDREN rows).
        _stage_staff(f"AND (p.unit_id {inside} OR u.parent_id {inside})")
        _execute(_phase1_sql(STAFF_TABLE, where=f"s.target_id {inside}"))
        for depth in sorted(set(depth_of.values()), reverse=True):
            _execute(_subtree_sql(f"AND {{column}} {inside}"), [depth, depth + 1])
        _execute(_total_sql(f"AND unit_id {inside}"))
        _execute(f"DROP TABLE {STAFF_TABLE}")
        _execute(f"DROP TABLE {TOUCHED_TABLE}")
    return len(touched)

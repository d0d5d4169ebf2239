"""The gap engine: two-phase, set-based aggregation into `UnitGap`.

Phase 1 ("own"): one GROUP BY gives the counts of the staff posted in each unit. Its input
is the current levels joined to people and resolved requirements (one row per level),
plus one row per group of people sharing unit, role and sex for the headcounts — never
the product of people x requirements joined to levels, whose hash tables would not fit.
Units without child units store these rows once (scope BOTH); other units as OWN.
Phase 2 ("subtree"): depth by depth from the leaves up, a unit's SUBTREE rows are its own
rows plus its children's subtree rows — a few thousand rows per unit instead of
re-reading every person below it.

Two incremental paths keep the rollups current:
- level changes (the usual case: new ratings) arrive in the change feed
  (`CurrentLevelChange`) and are applied as signed deltas to the rows of the person's unit
  and of each of its ancestors — a few rows per change, whatever the size of the ministry;
- changes of posts, roles, units or people's status recompute the units touched and their
  ancestors with the very statements of a rebuild, so they cannot disagree with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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


def _own_select(person_filter: str = "") -> str:
    """Phase 1: one row per (unit, competency, role, sex) of the staff posted in the unit,
    columns named as `KEYS` (without scope) and `COUNTS`.

    Two inputs, added up by one GROUP BY: a row per current level that a requirement asks
    for (joined through small hash tables of people and requirements), and a headcount row
    per group of people sharing unit, role and sex, repeated for each requirement."""
    staff = f"p.is_active AND p.unit_id IS NOT NULL {person_filter}"
    levels = _contributions("cl")
    level_columns = ", ".join(f"{expr} AS {name}" for name, expr in levels.items())
    zeros = ", ".join(f"0 AS {name}" for name in levels)
    sums = ", ".join(f"SUM({name}) AS {name}" for name in COUNTS)
    assert ("in_scope", *levels) == COUNTS
    # Identifiers come from model metadata, never from input.
    return f"""
        SELECT unit_id, item_id, role_id, sex, {sums} FROM (
            SELECT c.unit_id, rr.item_id, c.role_id, c.sex, c.headcount AS in_scope, {zeros}
            FROM (
                SELECT p.unit_id, p.role_id, p.sex, COUNT(*) AS headcount
                FROM {PERSON} p WHERE {staff}
                GROUP BY p.unit_id, p.role_id, p.sex
            ) c
            JOIN {REQUIREMENT} rr ON rr.role_id = c.role_id
            UNION ALL
            SELECT p.unit_id, rr.item_id, p.role_id, p.sex, 0 AS in_scope, {level_columns}
            FROM {LEVEL} cl
            JOIN {PERSON} p ON p.id = cl.person_id
            JOIN {REQUIREMENT} rr ON rr.role_id = p.role_id AND rr.item_id = cl.item_id
            WHERE {staff}
        ) parts
        GROUP BY unit_id, item_id, role_id, sex
    """  # noqa: S608


def _own_sql(person_filter: str = "") -> str:
    """Insert phase-1 rows, scoped BOTH for units without child units, else OWN.

    In unit order, so that each unit's rows share a few pages: a district dashboard then
    reads two hundred schools from a few hundred pages instead of thirty thousand."""
    cols = ", ".join(COUNTS)
    return f"""
        INSERT INTO {GAP_TABLE} ({KEYS}, {cols})
        SELECT own.unit_id, own.item_id, own.role_id, own.sex,
               CASE WHEN parents.parent_id IS NULL THEN {Scope.BOTH} ELSE {Scope.OWN} END,
               {cols}
        FROM ({_own_select(person_filter)}) own
        LEFT JOIN (SELECT DISTINCT parent_id FROM {UNIT} WHERE parent_id IS NOT NULL) parents
            ON parents.parent_id = own.unit_id
        ORDER BY own.unit_id
    """  # noqa: S608


def _subtree_sql(unit_filter: str = "") -> str:
    """Phase 2 for the units with children at one depth (`%s` twice: depth, depth + 1):
    their own rows plus their children's subtree rows."""
    sums = ", ".join(f"SUM({c})" for c in COUNTS)
    cols = ", ".join(COUNTS)
    return f"""
        INSERT INTO {GAP_TABLE} ({KEYS}, {cols})
        SELECT unit_id, item_id, role_id, sex, {Scope.SUBTREE}, {sums} FROM (
            SELECT g.unit_id, g.item_id, g.role_id, g.sex, {cols}
            FROM {GAP_TABLE} g
            WHERE g.scope = {Scope.OWN} AND g.unit_id IN (
                SELECT u.id FROM {UNIT} u
                WHERE u.depth = %s {unit_filter.format(column="u.id")}
            )
            UNION ALL
            SELECT u.parent_id, g.item_id, g.role_id, g.sex, {cols}
            FROM {GAP_TABLE} g JOIN {UNIT} u ON u.id = g.unit_id
            WHERE g.scope IN ({Scope.SUBTREE}, {Scope.BOTH}) AND g.unit_id IN (
                SELECT u.id FROM {UNIT} u
                WHERE u.depth = %s {unit_filter.format(column="u.parent_id")}
            )
        ) parts
        GROUP BY unit_id, item_id, role_id, sex
    """  # noqa: S608


def _execute(sql: str, params: Sequence[int] = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _in(column: str, ids: Sequence[int]) -> str:
    return f"AND {column} IN ({', '.join(['%s'] * len(ids))})"


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


def _rebuild_postgresql() -> None:
    with connection.cursor() as cursor:
        # For this transaction only: the phase-1 hash aggregate in memory (bounded: about
        # 150 bytes per group, 20 million groups at national scale), no parallel workers
        # (each would build its own copy of the table), no JIT (no gain on these plans).
        cursor.execute("SET LOCAL work_mem = '1GB'")
        cursor.execute("SET LOCAL hash_mem_multiplier = 2")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(f"ANALYZE {REQUIREMENT}")
        # TRUNCATE instead of DELETE: no dead rows to vacuum; readers wait for the commit.
        cursor.execute(f"TRUNCATE {GAP_TABLE}")
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
            [GAP_TABLE],
        )
        indexes = cursor.fetchall()
        # Indexes are built once from the finished phase-1 rows: cheaper than maintaining
        # them through 20 million inserts; phase 2 then reads the upper levels through them.
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute(_own_sql())
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute(f"ANALYZE {GAP_TABLE}")
        for depth in _depths():
            cursor.execute(_subtree_sql(), [depth, depth + 1])


@transaction.atomic
def gaps_rebuild(*, materialise: bool = True) -> int:
    """Recompute every rollup from scratch. Returns the number of rows stored."""
    if materialise:
        requirements_materialise()
    _lock_feed()
    # The levels read below already hold every change in the feed.
    CurrentLevelChange.objects.all().delete()
    if connection.vendor == "postgresql":
        _rebuild_postgresql()
        return UnitGap.objects.count()
    UnitGap.objects.all().delete()
    _execute(_own_sql())
    for depth in _depths():
        _execute(_subtree_sql(), [depth, depth + 1])
    return UnitGap.objects.count()


def _delta_sql(last: int) -> str:
    """Signed contributions of the change feed (rows up to id `last`) to each rollup row:
    the person's unit (scope BOTH, or OWN and SUBTREE when it has child units) and every
    ancestor (SUBTREE). People are taken as they are now; a person whose post changed
    since is recomputed by the refresh that the change of post scheduled."""
    deltas = _contributions("f", sign="f.sign")
    columns = ", ".join(f"{expr} AS {name}" for name, expr in deltas.items())
    sums = ", ".join(f"SUM({name}) AS {name}" for name in deltas)
    scopes = " UNION ALL ".join(f"SELECT {s} AS scope" for s in Scope.values)
    leaf = f"NOT {_has_children('u.id')}"
    return f"""
        WITH RECURSIVE changed AS (
            SELECT p.unit_id, rr.item_id, p.role_id, p.sex, {columns}
            FROM {FEED} f
            JOIN {PERSON} p ON p.id = f.person_id
            JOIN {REQUIREMENT} rr ON rr.role_id = p.role_id AND rr.item_id = f.item_id
            WHERE f.id <= {int(last)} AND p.is_active AND p.unit_id IS NOT NULL
        ),
        units AS (SELECT DISTINCT unit_id FROM changed),
        up (unit_id, ancestor_id) AS (
            SELECT u.id, u.parent_id FROM {UNIT} u JOIN units ON units.unit_id = u.id
            WHERE u.parent_id IS NOT NULL
            UNION ALL
            SELECT up.unit_id, u.parent_id FROM up JOIN {UNIT} u ON u.id = up.ancestor_id
            WHERE u.parent_id IS NOT NULL
        ),
        targets (unit_id, target_id, scope) AS (
            SELECT unit_id, ancestor_id, {Scope.SUBTREE} FROM up
            UNION ALL
            SELECT u.id, u.id, s.scope
            FROM {UNIT} u JOIN units ON units.unit_id = u.id CROSS JOIN ({scopes}) s
            WHERE (s.scope = {Scope.BOTH}) = ({leaf})
        )
        SELECT t.target_id AS unit_id, c.item_id, c.role_id, c.sex, t.scope, {sums}
        FROM changed c JOIN targets t ON t.unit_id = c.unit_id
        GROUP BY t.target_id, c.item_id, c.role_id, c.sex, t.scope
    """  # noqa: S608


DELTA_TABLE = "gaps_delta"


def _apply_feed() -> int:
    """Apply and empty the change feed (the caller holds the feed lock). Returns the
    number of feed rows applied."""
    last = CurrentLevelChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    if last is None:
        return 0
    changes = ", ".join(c for c in COUNTS if c != "in_scope")
    keys = ("unit_id", "item_id", "role_id", "sex", "scope")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {DELTA_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {DELTA_TABLE} AS {_delta_sql(last)}")
        if connection.vendor == "postgresql":
            # Its size decides the plan: a few thousand rows are updated through the index,
            # not by scanning every rollup row.
            cursor.execute(f"ANALYZE {DELTA_TABLE}")
        assignments = ", ".join(f"{c} = {GAP_TABLE}.{c} + d.{c}" for c in changes.split(", "))
        matches = " AND ".join(f"{GAP_TABLE}.{k} = d.{k}" for k in keys)
        cursor.execute(
            f"UPDATE {GAP_TABLE} SET {assignments} FROM {DELTA_TABLE} d WHERE {matches}"  # noqa: S608
        )
        cursor.execute(f"DROP TABLE {DELTA_TABLE}")
    return CurrentLevelChange.objects.filter(pk__lte=last).delete()[0]


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
    with transaction.atomic():
        _lock_feed()
        _apply_feed()
        if connection.vendor == "postgresql":
            # Small statements planned as big ones: JIT compilation would cost more than
            # the query.
            _execute("SET LOCAL jit = off")
        for start in range(0, len(touched), BATCH):
            chunk = touched[start : start + BATCH]
            UnitGap.objects.filter(unit_id__in=chunk).delete()
            _execute(_own_sql(_in("p.unit_id", chunk)), [*chunk, *chunk])
        for depth in sorted(set(depth_of.values()), reverse=True):
            at_depth = sorted(pk for pk, d in depth_of.items() if d == depth)
            for start in range(0, len(at_depth), BATCH):
                chunk = at_depth[start : start + BATCH]
                marks = ", ".join(["%s"] * len(chunk))
                unit_filter = "AND {column} IN (" + marks + ")"
                _execute(_subtree_sql(unit_filter), [depth, *chunk, depth + 1, *chunk])
    return len(touched)

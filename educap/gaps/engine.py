"""The gap engine: two-phase, set-based aggregation into `UnitGap`.

Phase 1 ("own"): one GROUP BY over people x resolved role requirements, left-joined to
current levels, gives the counts of the staff posted in each unit.
Phase 2 ("subtree"): depth by depth from the leaves up, a unit's subtree rows are its own
rows plus its children's subtree rows — a few thousand rows per unit instead of
re-reading every person below it.

The incremental refresh runs the very same statements restricted to the units touched
and their ancestors, so an increment and a rebuild cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, transaction

from educap.frameworks.models import FrameworkStatus, RoleProfile
from educap.frameworks.selectors import profile_requirements
from educap.gaps.models import RoleRequirement, UnitGap
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
KEYS = "unit_id, item_id, role_id, sex, subtree"


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


def _own_select(*, unit_column: str, unit_filter: str, per_unit: bool = False) -> str:
    """The phase-1 SELECT: one row per (unit, competency, role, sex), columns named as
    `KEYS`/`COUNTS`. With `per_unit` the unit is fixed by the caller (a LATERAL join on
    `u`), so the grouping leaves it out."""
    person = Person._meta.db_table
    requirement = RoleRequirement._meta.db_table
    current = "assessments_currentlevel"
    met = "cl.value >= rr.required"
    short = "cl.value < rr.required"
    paired = "cl.self_value IS NOT NULL AND cl.supervisor_value IS NOT NULL"
    aggregates = {
        "in_scope": "COUNT(*)",
        "assessed": "COUNT(cl.value)",
        "meeting": f"SUM(CASE WHEN {met} THEN 1 ELSE 0 END)",
        "below": f"SUM(CASE WHEN {short} THEN 1 ELSE 0 END)",
        "gap_sum": f"SUM(CASE WHEN {short} THEN rr.required - cl.value ELSE 0 END)",
        "weighted_gap_sum": (
            f"SUM(CASE WHEN {short} THEN rr.weight * (rr.required - cl.value) ELSE 0 END)"
        ),
        "weighted_required_sum": (
            "SUM(CASE WHEN cl.value IS NOT NULL THEN rr.weight * rr.required ELSE 0 END)"
        ),
        "calibration_pairs": f"SUM(CASE WHEN {paired} THEN 1 ELSE 0 END)",
        "calibration_sum": (
            f"SUM(CASE WHEN {paired} THEN cl.self_value - cl.supervisor_value ELSE 0 END)"
        ),
    }
    assert tuple(aggregates) == COUNTS
    columns = ", ".join(f"{expr} AS {name}" for name, expr in aggregates.items())
    group = (
        "rr.item_id, p.role_id, p.sex" if per_unit else "p.unit_id, rr.item_id, p.role_id, p.sex"
    )
    # Identifiers come from model metadata, never from input.
    return f"""
        SELECT {unit_column} AS unit_id, rr.item_id, p.role_id, p.sex, {columns}
        FROM {person} p
        JOIN {requirement} rr ON rr.role_id = p.role_id
        LEFT JOIN {current} cl ON cl.person_id = p.id AND cl.item_id = rr.item_id
        WHERE p.is_active AND p.unit_id IS NOT NULL {unit_filter}
        GROUP BY {group}
    """  # noqa: S608


def _own_sql(unit_filter: str) -> str:
    select = _own_select(unit_column="p.unit_id", unit_filter=unit_filter)
    return f"""
        INSERT INTO {GAP_TABLE} ({KEYS}, {", ".join(COUNTS)})
        SELECT unit_id, item_id, role_id, sex, %s, {", ".join(COUNTS)} FROM ({select}) own
    """  # noqa: S608


def _subtree_sql(unit_filter: str) -> str:
    unit = OrgUnit._meta.db_table
    sums = ", ".join(f"SUM({c})" for c in COUNTS)
    cols = ", ".join(COUNTS)
    return f"""
        INSERT INTO {GAP_TABLE} ({KEYS}, {cols})
        SELECT unit_id, item_id, role_id, sex, %s, {sums} FROM (
            SELECT g.unit_id, g.item_id, g.role_id, g.sex, {cols}
            FROM {GAP_TABLE} g JOIN {unit} u ON u.id = g.unit_id
            WHERE g.subtree = %s AND u.depth = %s {unit_filter.format(column="u.id")}
            UNION ALL
            SELECT u.parent_id, g.item_id, g.role_id, g.sex, {cols}
            FROM {GAP_TABLE} g JOIN {unit} u ON u.id = g.unit_id
            WHERE g.subtree = %s AND u.depth = %s {unit_filter.format(column="u.parent_id")}
        ) parts
        GROUP BY unit_id, item_id, role_id, sex
    """  # noqa: S608


def _execute(sql: str, params: Sequence[bool | int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _in(column: str, ids: Sequence[int]) -> str:
    return f"AND {column} IN ({', '.join(['%s'] * len(ids))})"


def _depths() -> list[int]:
    return sorted(set(OrgUnit.objects.values_list("depth", flat=True).distinct()), reverse=True)


def _own_per_unit_sql() -> str:
    """Phase 1 of a full rebuild on PostgreSQL: the same GROUP BY, one unit at a time.

    One global GROUP BY of ~40 million person x requirement rows into ~20 million groups
    sorts or spills (minutes); per unit, the groups are a few hundred rows hashed in memory.
    Each unit's rows are written twice when it has no child units: their subtree rows are
    the same numbers, so phase 2 only adds up units that have children.
    """
    unit = OrgUnit._meta.db_table
    select = _own_select(unit_column="u.id", unit_filter="AND p.unit_id = u.id", per_unit=True)
    return f"""
        INSERT INTO {GAP_TABLE} ({KEYS}, {", ".join(COUNTS)})
        SELECT u.id, g.item_id, g.role_id, g.sex, s.subtree, {", ".join(f"g.{c}" for c in COUNTS)}
        FROM {unit} u
        CROSS JOIN LATERAL ({select}) g
        CROSS JOIN (VALUES (FALSE), (TRUE)) s(subtree)
        WHERE NOT s.subtree OR NOT EXISTS (SELECT 1 FROM {unit} c WHERE c.parent_id = u.id)
    """  # noqa: S608


def _own_units_sql(unit_filter: str) -> str:
    """Own rows of a few units on PostgreSQL, one LATERAL query per unit: each reads its
    staff through the unit index and their levels through the (person, competency) index,
    where one join for all units would scan every current level in the country."""
    unit = OrgUnit._meta.db_table
    select = _own_select(unit_column="u.id", unit_filter="AND p.unit_id = u.id", per_unit=True)
    return f"""
        INSERT INTO {GAP_TABLE} ({KEYS}, {", ".join(COUNTS)})
        SELECT u.id, g.item_id, g.role_id, g.sex, FALSE, {", ".join(f"g.{c}" for c in COUNTS)}
        FROM {unit} u CROSS JOIN LATERAL ({select}) g
        WHERE TRUE {unit_filter}
    """  # noqa: S608


def _subtree_parents_sql() -> str:
    """Phase 2 of a full rebuild: units with children, depth by depth (leaves were copied)."""
    unit = OrgUnit._meta.db_table
    sums = ", ".join(f"SUM({c})" for c in COUNTS)
    cols = ", ".join(COUNTS)
    parents = f"SELECT id FROM {unit} WHERE depth = %s AND id IN (SELECT parent_id FROM {unit})"  # noqa: S608
    return f"""
        INSERT INTO {GAP_TABLE} ({KEYS}, {cols})
        SELECT unit_id, item_id, role_id, sex, TRUE, {sums} FROM (
            SELECT g.unit_id, g.item_id, g.role_id, g.sex, {cols}
            FROM {GAP_TABLE} g
            WHERE NOT g.subtree AND g.unit_id IN ({parents})
            UNION ALL
            SELECT u.parent_id, g.item_id, g.role_id, g.sex, {cols}
            FROM {GAP_TABLE} g JOIN {unit} u ON u.id = g.unit_id
            WHERE g.subtree AND u.depth = %s
        ) parts
        GROUP BY unit_id, item_id, role_id, sex
    """  # noqa: S608


def _rebuild_postgresql() -> None:
    with connection.cursor() as cursor:
        # Session settings for this transaction only: hash tables in memory, no JIT
        # compilation (seconds per statement, no gain on these plans).
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(f"ANALYZE {RoleRequirement._meta.db_table}")
        # TRUNCATE instead of DELETE: no dead rows to vacuum; readers wait for the commit.
        cursor.execute(f"TRUNCATE {GAP_TABLE}")
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'u'",
            [GAP_TABLE],
        )
        unique = cursor.fetchall()
        # Building the unique index once from the finished table beats 40 million updates.
        for name, _definition in unique:
            cursor.execute(f'ALTER TABLE {GAP_TABLE} DROP CONSTRAINT "{name}"')
        cursor.execute(_own_per_unit_sql())
        cursor.execute(f"ANALYZE {GAP_TABLE}")
        for depth in _depths():
            cursor.execute(_subtree_parents_sql(), [depth, depth + 1])
        for name, definition in unique:
            cursor.execute(f'ALTER TABLE {GAP_TABLE} ADD CONSTRAINT "{name}" {definition}')


@transaction.atomic
def gaps_rebuild(*, materialise: bool = True) -> int:
    """Recompute every rollup from scratch. Returns the number of rows stored."""
    if materialise:
        requirements_materialise()
    if connection.vendor == "postgresql":
        _rebuild_postgresql()
        return UnitGap.objects.count()
    UnitGap.objects.all().delete()
    _execute(_own_sql(""), [False])
    for depth in _depths():
        _execute(_subtree_sql(""), [True, False, depth, True, depth + 1])
    return UnitGap.objects.count()


def gaps_refresh(*, person_ids: Iterable[int] = (), unit_ids: Iterable[int] = ()) -> int:
    """Recompute the rollups touched by these people (their current units) and these units
    (e.g. a person's former unit), with all their ancestors. Returns units recomputed."""
    units = set(unit_ids)
    people = sorted(set(person_ids))
    for start in range(0, len(people), BATCH):
        chunk = people[start : start + BATCH]
        units.update(
            Person.objects.filter(pk__in=chunk, unit__isnull=False).values_list(
                "unit_id", flat=True
            )
        )
    if not units:
        return 0
    leaves = sorted(units)
    paths = []
    for start in range(0, len(leaves), BATCH):
        paths += list(
            OrgUnit.objects.filter(pk__in=leaves[start : start + BATCH]).values_list(
                "path", flat=True
            )
        )
    touched = {int(pk) for path in paths for pk in path.strip("/").split("/") if pk}
    if len(touched) > REBUILD_SHARE * OrgUnit.objects.count():
        # Most of the tree is touched: one rebuild is cheaper than refreshing it in pieces,
        # and gives the same rows.
        gaps_rebuild(materialise=False)
        return len(touched)
    depth_of: dict[int, int] = {}
    for start in range(0, len(ordered := sorted(touched)), BATCH):
        depth_of.update(
            OrgUnit.objects.filter(pk__in=ordered[start : start + BATCH]).values_list("pk", "depth")
        )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Small statements planned as big ones: JIT compilation would cost more than
            # the query (0.6 s of 1.1 s for 232 units in bench/gaps.py).
            _execute("SET LOCAL jit = off", [])
        for start in range(0, len(leaves), BATCH):
            chunk = leaves[start : start + BATCH]
            UnitGap.objects.filter(subtree=False, unit_id__in=chunk).delete()
            if connection.vendor == "postgresql":
                _execute(_own_units_sql(_in("u.id", chunk)), chunk)
            else:
                _execute(_own_sql(_in("p.unit_id", chunk)), [False, *chunk])
        for depth in sorted(set(depth_of.values()), reverse=True):
            at_depth = sorted(pk for pk, d in depth_of.items() if d == depth)
            for start in range(0, len(at_depth), BATCH):
                chunk = at_depth[start : start + BATCH]
                UnitGap.objects.filter(subtree=True, unit_id__in=chunk).delete()
                marks = ", ".join(["%s"] * len(chunk))
                unit_filter = "AND {column} IN (" + marks + ")"
                _execute(
                    _subtree_sql(unit_filter),
                    [True, False, depth, *chunk, True, depth + 1, *chunk],
                )
    return len(touched)

"""Time the gap engine on a national-size ministry against a plain SQL reference.

    .venv/bin/python bench/gaps.py --staff 1000000 --competencies 40 --runs 3 \\
        --database-url postgres://postgres@127.0.0.1:5432/educap_bench_gaps --database-url sqlite

For every database: a fresh, migrated database; `seed_demo --staff N --no-campaigns
--no-framework` (timed, reported); then, written directly (INSERT … SELECT, not through
services), a synthetic published framework of `--competencies` competencies with a role
profile for every demo role requiring all of them, and a current level for 97 % of every
person x competency (about 40 million at 1,000,000 staff). Evidence (ratings) is written only
for the 10,000 people the incremental step touches, and their current levels are derived
from it with `current_levels_refresh`, so the incremental step works on real evidence.

Then, in one measuring process per database (medians over `--runs`):

- `gaps_rebuild()` as shipped (peak RSS of this process; on PostgreSQL also the peak RSS of
  the server backend and its parallel workers, sampled every 0.2 s);
- the reference: the same subtree rollup the engine stores (units with child units, by
  role and sex) as ONE `GROUP BY` over current levels x people x resolved requirements x an
  ancestor (closure) table built from the materialised paths, written with
  `CREATE TABLE … AS`; once, every unit's rollup as the dashboards read it (schools, which
  the engine reads live, one row per competency);
- the increment: 10,000 new Rating rows, then `current_levels_refresh` and
  `gaps_apply_changes` (timed apart and together), both for 10,000 random people (one
  rating each) and for 250 people rated on all 40 competencies (a batch of whole
  submissions); a first run of each, right after the reference queries have emptied the
  caches, is reported apart and not counted (as the dashboards' first request);
- the dashboards: `unit_matrix` + `training_needs` for the ministry and for one district
  (through the test client when the `gaps:unit` page exists).

`--check-staff` (default 20,000) first builds a small ministry the same way and verifies that
every rollup row of `gaps_rebuild()` equals the reference query's (own and subtree rows),
and so do the schools' rows the engine reads live.
A PostgreSQL database is dropped and created again, so its name must contain "bench";
`--reuse` keeps one that already holds the data (for repeated measurements).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from seed_demo import fresh_database, machine, server_version  # noqa: E402

BENCH_FRAMEWORK = "BENCH-GAPS"
ANCESTORS = "bench_unit_ancestor"
REFERENCE = "bench_reference_gap"
SAMPLE = 10_000
ASSESSED_PERCENT = 97
LOG = sys.stderr


# --- data (runs inside a worker process with Django set up) ----------------------------------


def _hash_sql(person: str, item: str) -> str:
    """A deterministic pseudo-random number per person x competency, the same in both databases."""
    return f"((({person} * 7919 + {item} * 104729) %% 1000003) * 48271 %% 2147483647)"


def _drop_indexes(table: str) -> list[str]:
    """Drop every index but the primary key (unique constraints too); return how to rebuild."""
    from django.db import connection

    rebuild = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'u'",
                [table],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
                [table],
            )
        else:
            cursor.execute(
                "SELECT quote(name), sql FROM sqlite_master WHERE type = 'index' "
                "AND sql IS NOT NULL AND tbl_name = %s",
                [table],
            )
        for name, definition in cursor.fetchall():
            cursor.execute(f"DROP INDEX {name}")
            rebuild.append(definition)
    return rebuild


def generate(*, competencies: int, seed: int) -> dict[str, Any]:
    """Framework, profiles, current levels, evidence for the sample, ancestor table."""
    from django.db import connection, transaction
    from django.utils import timezone

    from educap.assessments.consolidation import current_levels_refresh
    from educap.assessments.models import CurrentLevel, Rating
    from educap.frameworks.models import (
        Framework,
        FrameworkItem,
        FrameworkStatus,
        ProficiencyScale,
        Requirement,
        RoleProfile,
        ScaleLevel,
    )
    from educap.people.models import Role

    started = time.perf_counter()
    scale = ProficiencyScale.objects.get(code="default-5")
    levels = {level.value: level for level in ScaleLevel.objects.filter(scale=scale)}
    with transaction.atomic():
        framework = Framework.objects.create(
            code=BENCH_FRAMEWORK,
            title="Synthetic benchmark framework",
            status=FrameworkStatus.PUBLISHED,
            scale=scale,
            validity_months=36,
            published_at=timezone.now(),
        )
        items = FrameworkItem.objects.bulk_create(
            FrameworkItem(
                framework=framework,
                kind="competency",
                code=f"BG-{k:02d}",
                sequence=k,
                statement=f"Benchmark competency {k}",
            )
            for k in range(1, competencies + 1)
        )
        for role in Role.objects.order_by("pk"):
            profile = RoleProfile.objects.create(
                framework=framework, code=f"bench-{role.code}", name=role.name, role=role
            )
            Requirement.objects.bulk_create(
                Requirement(
                    profile=profile,
                    item=item,
                    level=levels[1 + (role.pk * 7 + k * 3) % 4],
                    weight=1 + (role.pk + k) % 4,
                )
                for k, item in enumerate(items, start=1)
            )
    print(f"  framework and profiles: {time.perf_counter() - started:.1f} s", file=LOG)

    # Current levels: 97 % of person x competency, values 0-4, 60 % with a self rating.
    started = time.perf_counter()
    table = CurrentLevel._meta.db_table
    h = _hash_sql("p.id", "i.sequence")
    now = timezone.now().replace(microsecond=0)
    rated, valid = now - dt.timedelta(days=200), now + dt.timedelta(days=900)
    if connection.vendor == "sqlite":
        rated_p: Any = rated.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
        valid_p: Any = valid.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    else:
        rated_p, valid_p = rated, valid
    with transaction.atomic():
        rebuild = _drop_indexes(table)
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA cache_size=-262144")
            cursor.execute(
                f"""
                INSERT INTO {table} (person_id, item_id, value, source, rating_id, rated_at,
                                     valid_until, self_value, supervisor_value)
                SELECT person_id, item_id, value, 'supervisor', 0, %s, %s,
                       CASE WHEN h / 500 %% 10 < 6 THEN
                           CASE WHEN value < 4 THEN value + h / 5000 %% 2 ELSE value END END,
                       value
                FROM (SELECT p.id AS person_id, i.id AS item_id, {h} AS h,
                             {h} / 100 %% 5 AS value
                      FROM people_person p CROSS JOIN frameworks_frameworkitem i
                      WHERE i.framework_id = %s) pairs
                WHERE h %% 100 < {ASSESSED_PERCENT}
                ORDER BY person_id, item_id
                """,  # noqa: S608
                [rated_p, valid_p, framework.pk],
            )
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            for sql in rebuild:
                cursor.execute(sql)
    levels_seconds = time.perf_counter() - started
    count = CurrentLevel.objects.count()
    print(f"  {count:,} current levels: {levels_seconds:.1f} s", file=LOG)

    # Evidence for the sample people (their levels are then derived from it).
    started = time.perf_counter()
    sample = sample_people(seed)
    rating = Rating._meta.db_table
    with connection.cursor() as cursor:
        for source, column in (("supervisor", "supervisor_value"), ("self", "self_value")):
            for start in range(0, len(sample), 2000):
                chunk = sample[start : start + 2000]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"""
                    INSERT INTO {rating} (person_id, item_id, source, value, rated_at,
                                          comment, evidence)
                    SELECT person_id, item_id, %s, {column}, rated_at, '', ''
                    FROM {table} WHERE {column} IS NOT NULL AND person_id IN ({marks})
                    """,  # noqa: S608
                    [source, *chunk],
                )
    current_levels_refresh(person_ids=sample)
    evidence = Rating.objects.count()
    print(f"  {evidence:,} ratings for the sample: {time.perf_counter() - started:.1f} s", file=LOG)

    started = time.perf_counter()
    ancestors_build()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  ancestor table, ANALYZE: {time.perf_counter() - started:.1f} s", file=LOG)
    return {"current_levels": count, "ratings": evidence, "levels_seconds": levels_seconds}


def sample_people(seed: int, size: int = SAMPLE) -> list[int]:
    from educap.people.models import Person

    ids = list(
        Person.objects.filter(is_active=True, unit__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sorted(random.Random(seed).sample(ids, min(size, len(ids))))


def ancestors_build() -> None:
    """(unit, ancestor) for every unit and each of its ancestors, itself included."""
    from django.db import connection

    from educap.org.models import OrgUnit

    rows = [
        (pk, int(part))
        for pk, path in OrgUnit.objects.values_list("pk", "path").iterator(chunk_size=20_000)
        for part in path.strip("/").split("/")
        if part
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {ANCESTORS}")
        cursor.execute(f"CREATE TABLE {ANCESTORS} (unit_id bigint NOT NULL, ancestor_id bigint NOT NULL)")  # fmt: skip  # noqa: E501
        for start in range(0, len(rows), 50_000):
            cursor.executemany(
                f"INSERT INTO {ANCESTORS} (unit_id, ancestor_id) VALUES (%s, %s)",  # noqa: S608
                rows[start : start + 50_000],
            )
        cursor.execute(f"CREATE INDEX {ANCESTORS}_unit ON {ANCESTORS} (unit_id, ancestor_id)")


# --- the reference query ---------------------------------------------------------------------


GRAINS = ("stored", "every unit")


def reference_sql(*, own: bool = False, grain: str = "stored") -> str:
    """The subtree rollup as one GROUP BY (own=True: of each unit's own staff by role and
    sex, every unit, without the ancestor table). Grains:
    - "stored": what the engine stores, the units with child units by role and sex;
    - "every unit": every unit's rollup as the dashboards read it, units with child units
      by role and sex and schools (read live by the engine) one row per competency, with
      role and sex blank (the grain stored until the fifth session);
    - "total": the units with child units per competency, over all roles and sexes (the
      engine's TOTAL rows)."""
    met = "cl.value >= rr.required"
    short = "cl.value < rr.required"
    paired = "cl.self_value IS NOT NULL AND cl.supervisor_value IS NOT NULL"
    unit = "p.unit_id" if own else "a.ancestor_id"
    ancestors = "" if own else f"JOIN {ANCESTORS} a ON a.unit_id = p.unit_id"
    role, sex, units, where = "p.role_id", "p.sex", "", ""
    if not own and grain == "total":
        role, sex = "CAST(NULL AS BIGINT)", "''"
    if not own and grain in ("stored", "total"):
        where = f"AND {unit} IN (SELECT parent_id FROM org_orgunit WHERE parent_id IS NOT NULL)"  # noqa: S608
    elif not own:
        # Whether the unit counted is a leaf, from a small table of units.
        role = "CASE WHEN lu.leaf THEN NULL ELSE p.role_id END"
        sex = "CASE WHEN lu.leaf THEN '' ELSE p.sex END"
        units = (
            "JOIN (SELECT u.id, NOT EXISTS (SELECT 1 FROM org_orgunit k WHERE k.parent_id = u.id)"  # noqa: S608
            f" AS leaf FROM org_orgunit u) lu ON lu.id = {unit}"
        )
    return f"""
        SELECT {unit} AS unit_id, rr.item_id, {role} AS role_id, {sex} AS sex,
               COUNT(*) AS in_scope,
               COUNT(cl.value) AS assessed,
               SUM(CASE WHEN {met} THEN 1 ELSE 0 END) AS meeting,
               SUM(CASE WHEN {short} THEN 1 ELSE 0 END) AS below,
               SUM(CASE WHEN {short} THEN rr.required - cl.value ELSE 0 END) AS gap_sum,
               SUM(CASE WHEN {short} THEN rr.weight * (rr.required - cl.value) ELSE 0 END)
                   AS weighted_gap_sum,
               SUM(CASE WHEN cl.value IS NOT NULL THEN rr.weight * rr.required ELSE 0 END)
                   AS weighted_required_sum,
               SUM(CASE WHEN {paired} THEN 1 ELSE 0 END) AS calibration_pairs,
               SUM(CASE WHEN {paired} THEN cl.self_value - cl.supervisor_value ELSE 0 END)
                   AS calibration_sum
        FROM people_person p
        {ancestors}
        {units}
        JOIN gaps_rolerequirement rr ON rr.role_id = p.role_id
        LEFT JOIN assessments_currentlevel cl ON cl.person_id = p.id AND cl.item_id = rr.item_id
        WHERE p.is_active AND p.unit_id IS NOT NULL {where}
        GROUP BY {unit}, rr.item_id{"" if grain == "total" else f", {role}, {sex}"}
    """  # noqa: S608


def reference_run(table: str = REFERENCE, *, own: bool = False, grain: str = "stored") -> int:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TABLE {table} AS {reference_sql(own=own, grain=grain)}")
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        return int(cursor.fetchone()[0])


ENGINE_ROWS = "bench_engine_rows"


def engine_rows(*, own: bool, schools: bool, total: bool = False) -> str:
    """A table of the engine's rows, as `reference_sql` (own, subtree or with `total` the
    TOTAL rows): the stored rows of units with child units, and with `schools` the
    schools' rows the engine reads live
    (per competency for the subtree, by role and sex for their own staff) — computed for
    every school at once with `engine.unit_rows`, a few thousand at a time."""
    from django.db import connection

    from educap.frameworks.models import Framework
    from educap.gaps.engine import COUNTS, GAP_TABLE, unit_rows
    from educap.gaps.models import Scope
    from educap.org.models import OrgUnit

    cols = ["unit_id", "item_id", "role_id", "sex", *COUNTS]
    scope = Scope.OWN if own else Scope.TOTAL if total else Scope.SUBTREE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {ENGINE_ROWS}")
        cursor.execute(
            f"CREATE TABLE {ENGINE_ROWS} AS SELECT {', '.join(cols)} FROM {GAP_TABLE} "  # noqa: S608
            f"WHERE scope = {scope}"
        )
        if schools:
            framework = Framework.objects.get(code=BENCH_FRAMEWORK).pk
            leaves = list(
                OrgUnit.objects.exclude(
                    pk__in=OrgUnit.objects.filter(parent__isnull=False).values("parent_id")
                ).values_list("pk", flat=True)
            )
            marks = ", ".join(["%s"] * len(cols))
            for start in range(0, len(leaves), 2000):
                rows = unit_rows(
                    unit_ids=leaves[start : start + 2000], framework_id=framework, by_role_sex=own
                )
                cursor.executemany(
                    f"INSERT INTO {ENGINE_ROWS} ({', '.join(cols)}) VALUES ({marks})",  # noqa: S608
                    [[row[c] for c in cols] for row in rows],
                )
    return ENGINE_ROWS


def compare(table: str, engine: str) -> tuple[int, int, int]:
    """(engine rows, reference rows, rows in one but not the other) of two tables."""
    from django.db import connection

    from educap.gaps.engine import COUNTS

    cols = "unit_id, item_id, role_id, sex, " + ", ".join(COUNTS)
    ours = f"SELECT {cols} FROM {engine}"  # noqa: S608
    reference = f"SELECT {cols} FROM {table}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({ours}) e")  # noqa: S608
        engine_rows = cursor.fetchone()[0]
        cursor.execute(f"SELECT COUNT(*) FROM ({reference}) r")  # noqa: S608
        reference_rows = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT * FROM ({ours} EXCEPT {reference}) a "  # noqa: S608
            f"UNION ALL SELECT * FROM ({reference} EXCEPT {ours}) b) d"
        )
        differing = cursor.fetchone()[0]
    return engine_rows, reference_rows, differing


# --- measuring -------------------------------------------------------------------------------


class ServerMemory:
    """Peak summed RSS of this connection's PostgreSQL backend and its parallel workers."""

    def __init__(self) -> None:
        from django.db import connection

        self.enabled = connection.vendor == "postgresql"
        self.peak_kib = 0
        self._stop = threading.Event()
        if self.enabled:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]

    @staticmethod
    def _rss(pid: int | str) -> int:
        try:
            with open(f"/proc/{pid}/status", encoding="utf-8") as status:
                for line in status:
                    if line.startswith("VmRSS"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _sample(self) -> None:
        marker = f"parallel worker for PID {self.pid}".encode()
        while not self._stop.wait(0.2):
            total = self._rss(self.pid)
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                            if marker in cmd.read():
                                total += self._rss(entry)
                    except OSError:
                        continue
            self.peak_kib = max(self.peak_kib, total)

    def __enter__(self) -> ServerMemory:
        if self.enabled:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._stop.set()
            self._thread.join()


def timed(function: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def increment(people: list[int], per_person: int, rnd: random.Random) -> dict[str, float]:
    """Insert new ratings (10,000 in all), then refresh the levels they touch and bring the
    gap rollups up to date, as the services and the task worker do."""
    from django.utils import timezone

    from educap.assessments.consolidation import current_levels_refresh
    from educap.assessments.models import Rating, Source
    from educap.frameworks.models import FrameworkItem
    from educap.gaps.engine import gaps_apply_changes

    items = list(
        FrameworkItem.objects.filter(framework__code=BENCH_FRAMEWORK).values_list("pk", flat=True)
    )
    now = timezone.now()
    ratings = []
    for person in people:
        for item in rnd.sample(items, per_person):
            ratings.append(
                Rating(
                    person_id=person,
                    item_id=item,
                    source=Source.SUPERVISOR,
                    value=rnd.randint(0, 4),
                    rated_at=now,
                )
            )
    insert, _ = timed(Rating.objects.bulk_create, ratings, batch_size=2000)
    # Whole submissions refresh every competency of the people; single ratings refresh
    # their person x competency pairs (evidence_record does the same).
    if per_person == len(items):
        levels, _ = timed(current_levels_refresh, person_ids=people)
    else:
        pairs = [(r.person_id, r.item_id) for r in ratings]
        levels, _ = timed(current_levels_refresh, pairs=pairs)
    gaps, changes = timed(gaps_apply_changes)
    return {"insert": insert, "levels": levels, "gaps": gaps, "changes": changes}


def dashboards(repeat: int) -> dict[str, Any]:
    from django.urls import NoReverseMatch, reverse

    from educap.accounts.models import User
    from educap.frameworks.models import Framework
    from educap.gaps.selectors import GapFilters, training_needs, unit_matrix
    from educap.org.models import OrgUnit
    from educap.people.models import Person, Role

    user = User.objects.get(username="central")
    framework = Framework.objects.get(code=BENCH_FRAMEWORK)
    root = OrgUnit.objects.get(parent__isnull=True)
    governorate = OrgUnit.objects.filter(parent=root).order_by("code").first()
    district = OrgUnit.objects.filter(parent=governorate).order_by("code").first()
    assert district is not None
    results: dict[str, Any] = {}
    try:
        reverse("gaps:unit", args=[root.code])
        page = True
    except NoReverseMatch:
        page = False
    # A role of the district's school staff (teachers, in the demo ministry).
    role = Role.objects.filter(
        pk=Person.objects.filter(unit__parent=district).values("role_id")[:1]
    ).first()
    cases = (
        ("national", root, None),
        ("district", district, None),
        # Schools' role split is read from their people's current levels.
        ("district, one role", district, role),
    )
    for name, unit, only in cases:
        filters = GapFilters(framework=framework, role=only)
        timings = []
        for _ in range(repeat + 1):  # the first is a warm-up
            started = time.perf_counter()
            # As the page reads it: the first page of 25 child units.
            matrix = unit_matrix(user=user, unit=unit, filters=filters, children_page=(0, 25))
            training_needs(user=user, unit=unit, filters=filters)
            timings.append((time.perf_counter() - started) * 1000)
        results[f"selectors {name}"] = (statistics.median(timings[1:]), max(timings[1:]))
        results[f"in scope {name}"] = matrix.total.in_scope
        if page:
            from django.test import Client

            client = Client()
            client.force_login(user)
            url = reverse("gaps:unit", args=[unit.code])
            pages = []
            for _ in range(repeat + 1):
                started = time.perf_counter()
                query = {"framework": framework.pk, **({"role": only.pk} if only else {})}
                response = client.get(url, query)
                pages.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            results[f"page {name}"] = (statistics.median(pages[1:]), max(pages[1:]))
    return results


STEPS = ("rebuild", "reference", "increments", "pages")


def measure(
    *, runs: int, seed: int, skip_reference: bool, steps: tuple[str, ...] = STEPS
) -> dict[str, Any]:
    from django.db import connection

    from educap.assessments.signals import current_levels_changed
    from educap.gaps.engine import gaps_rebuild

    # Time the engine alone: no background job queued by the refresh.
    current_levels_changed.disconnect(dispatch_uid="gaps-levels")
    out: dict[str, Any] = {"vendor": connection.vendor}
    rebuilds = []
    server_peak = 0
    rows = 0
    for run in range(runs if "rebuild" in steps else 0):
        with ServerMemory() as server:
            seconds, rows = timed(gaps_rebuild)
        server_peak = max(server_peak, server.peak_kib)
        rebuilds.append(seconds)
        print(f"  rebuild {run + 1}: {seconds:.1f} s, {rows:,} rows", file=LOG, flush=True)
    out.update(rebuild=rebuilds, rows=rows, rebuild_rss=peak_rss_mib())
    out["rebuild_server_rss"] = server_peak / 1024
    references = []
    for run in range(runs if "reference" in steps and not skip_reference else 0):
        with ServerMemory() as server:
            seconds, count = timed(reference_run)
        references.append(seconds)
        out["reference_server_rss"] = max(
            out.get("reference_server_rss", 0), server.peak_kib / 1024
        )
        print(f"  reference {run + 1}: {seconds:.1f} s, {count:,} rows", file=LOG, flush=True)
    out["reference"] = references
    if references:
        out["reference_rows"] = count
        out["reference_differing"] = compare(REFERENCE, engine_rows(own=False, schools=False))[2]
        # Once: every unit's rollup, schools included (what the dashboards read, the
        # engine's schools live), the grain stored until the fifth session.
        seconds, count = timed(reference_run, REFERENCE + "_every", grain="every unit")
        out["reference_every"] = seconds
        print(f"  reference, every unit: {seconds:.1f} s, {count:,} rows", file=LOG)
    rnd = random.Random(seed)
    sample = sample_people(seed)
    for name, people, per in (
        ("random", sample, 1),
        ("batch", sorted(rnd.sample(sample, SAMPLE // 40)), 40),
    ):
        if "increments" not in steps:
            break
        # A first run, reported apart and not counted, as for the dashboards: after the
        # reference queries the caches hold none of the pages an increment touches.
        out[f"increment {name} cold"] = increment(people, per, rnd)
        runs_ = [increment(people, per, rnd) for _ in range(runs)]
        out[f"increment {name}"] = runs_
        print(f"  increment {name}: {runs_}", file=LOG, flush=True)
    out["dashboards"] = dashboards(repeat=7) if "pages" in steps else {}
    return out


def check(*, seed: int) -> dict[str, Any]:
    """The engine's rows equal the reference query's: own, subtree and total rows."""
    from educap.gaps.engine import gaps_rebuild

    gaps_rebuild()
    out = {}
    for name, own, grain, schools in (
        ("subtree", False, "stored", False),
        ("total", False, "total", False),
        ("every unit", False, "every unit", True),
        ("own", True, "stored", True),
    ):
        table = f"{REFERENCE}_check"
        reference_run(table, own=own, grain=grain)
        engine = engine_rows(own=own, schools=schools, total=grain == "total")
        out[name] = compare(table, engine)
    return out


def worker(args: argparse.Namespace) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    if args.worker == "generate":
        result = generate(competencies=args.competencies, seed=args.seed)
    elif args.worker == "measure":
        result = measure(
            runs=args.runs,
            seed=args.seed,
            skip_reference=args.skip_reference,
            steps=tuple(args.steps.split(",")),
        )
    else:
        result = check(seed=args.seed)
    result["peak_rss"] = peak_rss_mib()
    print(json.dumps(result))


# --- orchestration ---------------------------------------------------------------------------


def run_worker(kind: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--worker",
        kind,
        "--runs",
        str(args.runs),
        "--seed",
        str(args.seed),
        "--competencies",
        str(args.competencies),
    ]
    if args.skip_reference:
        command.append("--skip-reference")
    command += ["--steps", args.steps]
    done = subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)  # noqa: S603
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare(url: str, staff: int, args: argparse.Namespace, workdir: Path) -> dict[str, str]:
    """A migrated database with the demo ministry and the synthetic data; returns env."""
    if args.reuse and url.startswith("sqlite"):
        url = url if url != "sqlite" else f"sqlite:///{workdir / 'bench.sqlite3'}"
    database_url = url if args.reuse else fresh_database(url, workdir)
    env = {**os.environ, "DATABASE_URL": database_url, "EDUCAP_DEBUG": "false"}
    if args.reuse:
        return env
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True)  # noqa: S603
    started = time.perf_counter()
    subprocess.run(  # noqa: S603
        [*manage, "seed_demo", "--staff", str(staff), "--seed", str(args.seed), "--quiet",
         "--no-campaigns", "--no-framework"],
        env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    print(f"  seed_demo --staff {staff}: {time.perf_counter() - started:.1f} s", file=LOG)
    started = time.perf_counter()
    data = run_worker("generate", env, args)
    print(
        f"  synthetic data: {time.perf_counter() - started:.1f} s, "
        f"{data['current_levels']:,} current levels",
        file=LOG,
        flush=True,
    )
    return env


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(name: str, staff: int, result: dict[str, Any], runs: int) -> None:
    rebuild, reference = median(result["rebuild"]), median(result["reference"])
    print(f"\n### {name}, {staff:,} staff ({result['rows']:,} rollup rows)\n")
    print("| measure | median | min–max | target |")
    print("| --- | ---: | --- | --- |")
    if result["reference"]:
        print(
            f"| reference: the stored rollup as one GROUP BY with an ancestor table "
            f"| {reference:.1f} s "
            f"| {min(result['reference']):.1f}–{max(result['reference']):.1f} | |"
        )
    if result["rebuild"]:
        print(
            f"| `gaps_rebuild()` | {rebuild:.1f} s | {min(result['rebuild']):.1f}–"
            f"{max(result['rebuild']):.1f} | ≤ 1/3 of the reference |"
        )
    if result["rebuild"] and result["reference"]:
        print(f"| rebuild ÷ reference | {rebuild / reference:.2f} | | ≤ 0.33 |")
    if "reference_every" in result:
        every = result["reference_every"]
        print(
            f"| reference: every unit's rollup, schools per competency (1 run) | {every:.1f} s "
            f"| | rebuild ÷ it: {rebuild / every:.2f} |"
        )
    for kind, label in (
        ("random", "10,000 ratings for 10,000 random people"),
        ("batch", "10,000 ratings: 250 people x 40 competencies"),
    ):
        rows = result.get(f"increment {kind}")
        if not rows:
            continue
        parts = (("levels", "`current_levels_refresh`"), ("gaps", "`gaps_apply_changes`"))
        for part, what in parts:
            values = [r[part] for r in rows]
            print(
                f"| {label}: {what} | {median(values):.2f} s "
                f"| {min(values):.2f}–{max(values):.2f} | |"
            )
        both = [r["levels"] + r["gaps"] for r in rows]
        print(f"| {label}: both | {median(both):.2f} s | {min(both):.2f}–{max(both):.2f} | < 2 s |")
        cold = result.get(f"increment {kind} cold")
        if cold:
            print(
                f"| {label}: both, first run (cold caches, not counted) "
                f"| {cold['levels'] + cold['gaps']:.2f} s | | |"
            )
    for key, value in result["dashboards"].items():
        if isinstance(value, list):
            print(f"| dashboard {key} | {value[0]:.0f} ms | worst {value[1]:.0f} | < 150 ms |")
    rss = result["rebuild_rss"]
    server = result.get("rebuild_server_rss") or 0
    if result["rebuild"]:
        print(f"| peak RSS, rebuild: Python process | {rss:.0f} MiB | | < 4 GB |")
    if server:
        print(f"| peak RSS, rebuild: server backend + parallel workers | {server:.0f} MiB | | < 4 GB |")  # fmt: skip  # noqa: E501
    rows, differing = result.get("reference_rows", 0), result.get("reference_differing", "?")
    print(f"\n({runs} runs each; reference rows {rows:,}; differing from the rebuild: {differing})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--staff", type=int, default=1_000_000)
    parser.add_argument("--competencies", type=int, default=40)
    parser.add_argument("--check-staff", type=int, default=20_000, help="0 skips the check")
    parser.add_argument("--database-url", action="append")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="use the databases as they are")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument(
        "--steps",
        default=",".join(STEPS),
        help="what to measure, comma-separated, of: " + ", ".join(STEPS),
    )
    parser.add_argument(
        "--prepare-only", action="store_true", help="build the data, measure nothing"
    )
    parser.add_argument("--worker", choices=["generate", "measure", "check"], help=argparse.SUPPRESS)  # fmt: skip  # noqa: E501
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    urls = args.database_url or ["sqlite"]
    print(f"machine: {machine()}")
    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    with tempfile.TemporaryDirectory(prefix="educap-bench-") as tmp:
        for url in urls:
            name = server_version(url)
            if args.check_staff:
                print(f"{name}: correctness check at {args.check_staff:,} staff", file=LOG)
                checking = argparse.Namespace(**{**vars(args), "reuse": False})
                # A database of its own: the check starts from scratch, and must never
                # drop the one being measured (--reuse).
                check_url = url if url.startswith("sqlite") else f"{url}_check"
                env = prepare(check_url, args.check_staff, checking, Path(tmp))
                result = run_worker("check", env, args)
                print(
                    f"\n{name}, {args.check_staff:,} staff: engine vs reference rows "
                    f"(engine, reference, differing): subtree {result['subtree']}, "
                    f"total over roles and sexes {result['total']}, "
                    f"every unit (schools live) {result['every unit']}, own {result['own']}"
                )
                if any(counts[2] for counts in result.values() if isinstance(counts, list)):
                    sys.exit("the rebuild disagrees with the reference query")
            print(f"{name}: {args.staff:,} staff", file=LOG)
            env = prepare(url, args.staff, args, Path(tmp))
            if args.prepare_only:
                continue
            result = run_worker("measure", env, args)
            report(name, args.staff, result, args.runs)
            sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Time `manage.py import_submissions` on an ODK Central CSV against a plain COPY of its ratings.

    DATABASE_URL is not used: pass --database-url (the database is dropped and created again,
    so its name must contain "bench"; `sqlite` means a file in a temporary directory).

    .venv/bin/python bench/import_submissions.py --submissions 100000 --competencies 40 \\
        --database-url postgres://postgres@127.0.0.1:5432/educap_bench_submissions --write

The script makes its own data (one person per submission, a framework with N competencies
all required by one role profile, a launched self-rating campaign) and an ODK Central CSV
with one self rating per person. It then times, each in a fresh `manage.py` process
(wall time and peak RSS of that process): a `--dry-run` (reading and checking only), the
import, the task worker deriving the current levels the import queued (`db_worker
--batch`), and the same import again (every submission "unchanged"). The reference is a
plain COPY of exactly the rating rows the import stored into an unindexed table, in the
same run (the rows are prepared in memory first; only the COPY is timed).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.seed_demo import ROOT, fresh_database, is_postgres, machine, server_version

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/educap_bench_submissions"


def timed(command: list[str], env: dict[str, str], workdir: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and output of one manage.py process."""
    out_path, err_path = workdir / "out.txt", workdir / "err.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=err)  # noqa: S603
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed:\n{err_path.read_text()[-3000:]}")
    # ru_maxrss is in KiB on Linux.
    return seconds, usage.ru_maxrss / 1024, " ".join(out_path.read_text().split())


def build(submissions: int, competencies: int, workdir: Path, seed: int) -> tuple[Path, str]:
    """People, framework, launched campaign and the CSV file; returns (csv path, campaign)."""
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from educap.assessments.models import Campaign
    from educap.assessments.services import campaign_launch
    from educap.core.testing import make_levels, make_role, make_unit
    from educap.frameworks.models import (
        Framework,
        FrameworkItem,
        FrameworkStatus,
        ProficiencyScale,
        Requirement,
        RoleProfile,
    )
    from educap.people.models import Person

    rng = random.Random(seed)
    levels = make_levels()
    with transaction.atomic():
        ministry = make_unit("MOE", levels["ministry"], name="Ministry")
        gov = make_unit("G01", levels["governorate"], ministry, name="Governorate 1")
        districts = [
            make_unit(f"G01D{d:02d}", levels["district"], gov, name=f"District {d}")
            for d in range(10)
        ]
        schools = [
            make_unit(f"{district.code}S{s:03d}", levels["school"], district, name=f"School {s}")
            for district in districts
            for s in range(100)
        ]
        role = make_role("teacher", "Teacher")
        Person.objects.bulk_create(
            (
                Person(
                    staff_number=f"B{n:07d}",
                    given_name=f"Given{n}",
                    family_name=f"Family{n}",
                    sex="F" if n % 2 else "M",
                    unit=schools[n % len(schools)],
                    role=role,
                )
                for n in range(submissions)
            ),
            batch_size=5000,
        )
        scale = ProficiencyScale.objects.get(code="default-5")
        level_by_value = {level.value: level for level in scale.levels.all()}
        framework = Framework.objects.create(
            code="BENCH",
            version="1.0",
            title="Bench framework",
            scale=scale,
            status=FrameworkStatus.PUBLISHED,
            published_at=timezone.now(),
        )
        profile = RoleProfile.objects.create(
            framework=framework, code="teacher", name="Teacher", role=role
        )
        codes = []
        for d in range(4):
            domain = FrameworkItem.objects.create(
                framework=framework, kind="domain", code=f"D{d}", statement=f"Domain {d}"
            )
            for c in range(competencies // 4 + (1 if d < competencies % 4 else 0)):
                code = f"D{d}.{c}"
                item = FrameworkItem.objects.create(
                    framework=framework,
                    parent=domain,
                    kind="competency",
                    code=code,
                    statement=f"Competency {code}",
                    sequence=c,
                )
                Requirement.objects.create(profile=profile, item=item, level=level_by_value[2])
                codes.append((f"d_D{d}", f"c_{code}"))
        today = timezone.localdate()
        campaign = Campaign.objects.create(
            code="BENCH-1",
            title="Bench campaign",
            framework=framework,
            opens_on=today - dt.timedelta(days=1),
            closes_on=today + dt.timedelta(days=30),
            collect_self=True,
            collect_supervisor=False,
        )
        campaign.target_units.set([ministry])
    campaign_launch(actor=None, campaign=campaign)

    path = workdir / "central.csv"
    header = ["SubmissionDate", "start", "end", "governorate", "district", "office", "person"]
    header += ["profile", "source", "rater", *[f"{g}-{c}" for g, c in codes]]
    header += ["meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "ReviewState"]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for n in range(submissions):
            school = schools[n % len(schools)]
            key = f"uuid:{rng.getrandbits(128):032x}"
            stamp = f"2026-03-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:07.123Z"
            writer.writerow(
                [stamp, stamp, stamp, "G01", school.code[:6], school.code, f"B{n:07d}"]
                + ["teacher", "self", ""]
                + [str(rng.randrange(5)) for _ in codes]
                + [key, key, "7", "collector", ""]
            )
    return path, campaign.code


def copy_reference(database_url: str) -> tuple[float, int]:
    """Seconds for a plain COPY of the stored rating rows into an unindexed table."""
    import psycopg

    columns = (
        "person_id, rater_id, campaign_id, assignment_id, submission_id, source, rated_at, "
        "comment, evidence, item_id, value"
    )
    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE bench_copy_reference (person_id integer, rater_id integer, "
                "campaign_id integer, assignment_id integer, submission_id integer, "
                "source varchar(12), rated_at timestamptz, comment text, evidence text, "
                "item_id integer, value smallint)"
            )
            chunks: list[bytes] = []
            with cur.copy(f"COPY (SELECT {columns} FROM assessments_rating) TO STDOUT") as copy:  # noqa: S608
                chunks.extend(bytes(data) for data in copy)
        conn.commit()
        rows = sum(chunk.count(b"\n") for chunk in chunks)
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY bench_copy_reference ({columns}) FROM STDIN") as copy,
        ):
            for chunk in chunks:
                copy.write(chunk)
        conn.commit()
        return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--competencies", type=int, default=40)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--write", action="store_true", help="Append the result table to bench/RESULTS.md."
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database_url = fresh_database(args.database_url, workdir)
        env = {**os.environ, "DATABASE_URL": database_url, "EDUCAP_DEBUG": "false"}
        os.environ.update({"DATABASE_URL": database_url, "EDUCAP_DEBUG": "false"})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True)  # noqa: S603
        started = time.perf_counter()
        path, code = build(args.submissions, args.competencies, workdir, args.seed)
        print(
            f"data built in {time.perf_counter() - started:.1f} s; "
            f"{path.stat().st_size / 1e6:.0f} MB CSV"
        )
        command = [*manage, "import_submissions", code, str(path)]
        results = []
        worker = [*manage, "db_worker", "--batch", "--no-startup-delay"]
        for label, step in (
            ("check only (--dry-run)", [*command, "--dry-run"]),
            ("import", command),
            ("task worker: current levels (and gap rollups) of the people imported", worker),
            ("import again (all unchanged)", command),
        ):
            seconds, rss, out = timed(step, env, workdir)
            print(f"{label}: {seconds:.1f} s, peak RSS {rss:.0f} MiB — {out}")
            results.append((label, seconds, rss, out))
        reference = None
        if is_postgres(database_url):
            reference, rows = copy_reference(database_url)
            print(f"plain COPY of the {rows:,} rating rows: {reference:.1f} s")
        version = server_version(database_url)

    if args.write:
        import_seconds = results[1][1]
        lines = [
            "",
            "# Offline submissions import (`bench/import_submissions.py`)",
            "",
            f"{machine()}. {dt.date.today().isoformat()}. {version}. Command:",  # noqa: DTZ011
            f"`.venv/bin/python bench/import_submissions.py --submissions {args.submissions} "
            f"--competencies {args.competencies} --database-url {args.database_url} --write`",
            "(one run each; each step is a fresh `manage.py import_submissions` process, so the",
            "times include Django start-up; peak RSS is that process only, not the server).",
            "",
            "| step | wall (s) | peak RSS (MiB) | output |",
            "| --- | ---: | ---: | --- |",
        ]
        lines += [f"| {label} | {s:.1f} | {rss:.0f} | {out} |" for label, s, rss, out in results]
        if reference is not None:
            lines += [
                f"| reference: plain COPY of the same {rows:,} rating rows into an unindexed "
                f"table | {reference:.1f} | | |",
                "",
                f"Import / COPY reference: {import_seconds / reference:.1f}x "
                "(target: under 60 s and within 3x).",
            ]
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

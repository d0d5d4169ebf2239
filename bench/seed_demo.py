"""Time `manage.py seed_demo` against fresh databases: wall time and peak RSS, median of runs.

    .venv/bin/python bench/seed_demo.py --staff 100000 --staff 1000000 \\
        --database-url sqlite --database-url postgres://postgres@127.0.0.1:5432/educap_bench

`sqlite` means a new file in a temporary directory. A PostgreSQL database is dropped and
created again before every run, so its name must contain "bench". Migrations run before the
clock starts; the timed part is exactly `manage.py seed_demo --staff N --quiet --no-campaigns`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    size_mb: float


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as info:
        kib = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
    return (
        f"{os.cpu_count()} cores, {kib / 1024 / 1024:.0f} GiB RAM, {cpu}; "
        f"Linux {platform.release()}; Python {platform.python_version()}"
    )


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def admin_connection(url: str):  # psycopg is imported lazily: SQLite runs need no server
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def fresh_database(url: str, workdir: Path) -> str:
    """A new, empty database for one run; returns the DATABASE_URL to use."""
    if url == "sqlite":
        path = workdir / "bench.sqlite3"
        for leftover in workdir.glob("bench.sqlite3*"):
            leftover.unlink()
        return f"sqlite:///{path}"
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        return url
    if is_postgres(url):
        from psycopg import sql

        name = urlsplit(url).path.lstrip("/")
        if "bench" not in name:
            sys.exit(f"refusing to drop database {name!r}: use a name containing 'bench'")
        with admin_connection(url) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))  # fmt: skip  # noqa: E501
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return url
    sys.exit(f"unsupported --database-url {url!r}")


def database_size_mb(url: str) -> float:
    if is_postgres(url):
        with admin_connection(url) as conn:
            name = urlsplit(url).path.lstrip("/")
            row = conn.execute("SELECT pg_database_size(%s)", [name]).fetchone()
            return (row[0] if row else 0) / 1e6
    path = Path(url.removeprefix("sqlite:///"))
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


def server_version(url: str) -> str:
    if not is_postgres(url):
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with admin_connection(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0] if row else '?'}"


def one_run(url: str, staff: int, seed: int, workdir: Path) -> Run:
    database_url = fresh_database(url, workdir)
    env = {**os.environ, "DATABASE_URL": database_url, "EDUCAP_DEBUG": "false"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True)  # noqa: S603
    # The demo campaigns (tens of ratings per person) are a separate cost, left out here.
    command = [
        *manage,
        "seed_demo",
        "--staff",
        str(staff),
        "--seed",
        str(seed),
        "--quiet",
        "--no-campaigns",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)  # noqa: S603
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"seed_demo failed with exit code {process.returncode}")
    # ru_maxrss is in KiB on Linux; this is the seed_demo process alone, not the server.
    return Run(seconds, usage.ru_maxrss / 1024, database_size_mb(database_url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--staff", type=int, action="append", help="repeatable; default 100000")
    parser.add_argument(
        "--database-url", action="append", help="`sqlite`, sqlite:///path or postgres://…/x_bench"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    staffs = args.staff or [100_000]
    urls = args.database_url or ["sqlite"]

    print(f"machine: {machine()}")
    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print()
    print(
        "| database | staff | runs | median wall (s) | min–max (s) | peak RSS (MiB) | size (MB) |"
    )
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="educap-bench-") as tmp:
        for url in urls:
            for staff in staffs:
                runs = [one_run(url, staff, args.seed, Path(tmp)) for _ in range(args.runs)]
                times = [r.seconds for r in runs]
                print(
                    f"| {server_version(url)} | {staff:,} | {len(runs)} "
                    f"| {statistics.median(times):.1f} | {min(times):.1f}–{max(times):.1f} "
                    f"| {statistics.median(r.peak_rss_mb for r in runs):.0f} "
                    f"| {statistics.median(r.size_mb for r in runs):.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()

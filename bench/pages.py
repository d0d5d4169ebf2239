"""Time the hierarchy and staff pages on a national-size demo ministry.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/educap_bench_pages \\
        .venv/bin/python bench/pages.py --staff 1000000 --repeat 7

Seeds the demo ministry with `--staff` people if the database is empty (any existing data
is used as it is), then requests each page `--repeat` times through Django's test client
as the central officer (who sees everything) and reports the median and worst time per
page, with the number of SQL queries. The reference line times `/healthz`, so that the
ratios can be compared between noisy runs and machines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("EDUCAP_LOGIN_THROTTLING", "false")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--staff", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from educap.accounts.models import User
    from educap.org.models import OrgUnit
    from educap.people.models import Person

    call_command("migrate", verbosity=0)
    if not OrgUnit.objects.exists():
        started = time.perf_counter()
        call_command("seed_demo", "--staff", str(args.staff), "--quiet")
        print(f"seeded {args.staff:,} staff in {time.perf_counter() - started:.1f} s")

    root = OrgUnit.objects.get(parent__isnull=True)
    governorate = OrgUnit.objects.filter(parent=root).order_by("code").first()
    district = OrgUnit.objects.filter(parent=governorate).order_by("code").first()
    school = OrgUnit.objects.filter(parent=district).order_by("code").first()
    assert governorate is not None
    assert district is not None
    assert school is not None
    person = Person.objects.filter(unit=school).first()
    assert person is not None
    pages = {
        "reference /healthz": "/healthz",
        "tree (roots)": "/org/",
        "tree children of a district": f"/org/units/{district.code}/children/",
        "tree search 'primary'": "/org/?q=primary",
        "unit page: ministry": f"/org/units/{root.code}/",
        "unit page: school": f"/org/units/{school.code}/",
        "headcount: ministry": f"/org/units/{root.code}/headcount/",
        "staff list (all)": "/people/",
        "staff list, search a name": f"/people/?q={person.family_name}",
        "staff list, district filter": f"/people/?unit={district.code}&sex=F",
        "person page": f"/people/{person.pk}/",
        "API people page 1": "/api/v1/people/",
        "API units within a governorate": f"/api/v1/org-units/?within={governorate.code}",
    }
    client = Client()
    client.force_login(User.objects.get(username="central"))
    units, staff = OrgUnit.objects.count(), Person.objects.count()
    print(f"\n{connection.vendor}: {units:,} units, {staff:,} staff, {args.repeat} requests each\n")
    print("| page | median ms | worst ms | queries | x reference |")
    print("| --- | ---: | ---: | ---: | ---: |")
    reference = None
    for name, url in pages.items():
        timings = []
        queries = 0
        for _ in range(args.repeat):
            reset_queries()
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            queries = len(ctx.captured_queries)
        median = statistics.median(timings)
        reference = reference or median
        print(
            f"| {name} | {median:.1f} | {max(timings):.1f} | {queries} | {median / reference:.1f} |"
        )


if __name__ == "__main__":
    main()

"""Export the gap analysis, per person x competency or per unit x competency, as CSV."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from educap.frameworks.models import Framework
from educap.gaps.exporting import (
    person_export_queryset,
    person_export_rows,
    unit_export_count,
    unit_export_rows,
)
from educap.gaps.io.gaps_csv import iter_person_csv, iter_unit_csv, write_lines
from educap.gaps.selectors import default_framework, gap_frameworks
from educap.org.models import OrgUnit


class Command(BaseCommand):
    help = (
        "Export gaps as CSV: --level person (one row per person x required competency) or "
        "--level unit (one row per unit x competency, from the stored subtree rollups)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--level", choices=["person", "unit"], required=True)
        parser.add_argument("--unit", help="Only this unit's code and everything under it.")
        parser.add_argument(
            "--framework",
            help="CODE or CODE:VERSION of a published framework (default: the newest in use).",
        )
        parser.add_argument("-o", "--output", help="File to write (standard output if not given).")
        parser.add_argument("--no-bom", action="store_true", help="No UTF-8 byte order mark.")

    def handle(self, *args: Any, **options: Any) -> None:
        unit = None
        if options["unit"]:
            unit = OrgUnit.objects.filter(code=options["unit"]).first()
            if unit is None:
                raise CommandError(f"No unit has the code {options['unit']}.")
        framework = self._framework(options["framework"])
        output = options["output"]
        # The bar goes to standard error, and only when the data does not go to the terminal.
        show_bar = bool(output) and sys.stderr.isatty() and options["verbosity"] > 0
        bom = bool(output) and not options["no_bom"]
        if options["level"] == "person":
            people = person_export_queryset(user=None, unit=unit)
            total, what = (people.count() if show_bar else None), " people"
        else:
            total, what = (unit_export_count(unit=unit) if show_bar else None), " units"
        with tqdm(total=total, unit=what, disable=not show_bar, file=sys.stderr) as bar:
            if options["level"] == "person":
                rows = person_export_rows(people=people, framework=framework, progress=bar.update)
                lines = iter_person_csv(rows, bom=bom)
            else:
                units = unit_export_rows(framework=framework, unit=unit, progress=bar.update)
                lines = iter_unit_csv(units, bom=bom)
            if not output:
                count = write_lines(lines, self.stdout)
                return
            path = Path(output)
            try:
                with path.open("w", encoding="utf-8", newline="") as text:
                    count = write_lines(lines, text)
            except OSError as exc:
                raise CommandError(f"Cannot write {path}: {exc.strerror}") from exc
        self.stderr.write(
            f"Exported {count:,} rows ({framework.code} {framework.version}) to {path}."
        )

    def _framework(self, spec: str | None) -> Framework:
        if not spec:
            framework = default_framework()
            if framework is None:
                raise CommandError(
                    "No published framework has role requirements: nothing to export. "
                    "Publish one (and run rebuild_gaps) first."
                )
            return framework
        code, _, version = spec.partition(":")
        versions = gap_frameworks().filter(code=code)
        if version:
            versions = versions.filter(version=version)
        framework = versions.order_by("-published_at", "-pk").first()
        if framework is None:
            raise CommandError(f"No published framework {spec} has role requirements.")
        return framework

"""Export every staff member (or one unit's subtree) as CSV or XLSX, as the system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from educap.org.models import OrgUnit
from educap.people.exporting import staff_export_queryset, staff_export_records
from educap.people.io.staff import iter_csv, write_csv, write_xlsx


class Command(BaseCommand):
    help = "Export staff in the import format (CSV to standard output unless -o is given)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("-o", "--output", help="File to write (required for xlsx).")
        parser.add_argument("--unit", help="Only this unit's code and everything under it.")

    def handle(self, *args: Any, **options: Any) -> None:
        unit = None
        if options["unit"]:
            unit = OrgUnit.objects.filter(code=options["unit"]).first()
            if unit is None:
                raise CommandError(f"No unit has the code {options['unit']}.")
        output = options["output"]
        if options["format"] == "xlsx" and not output:
            raise CommandError("XLSX is binary: give a file with -o.")

        people = staff_export_queryset(user=None, unit=unit)
        # Standard output carries the data unless -o is given; only then is there room for a bar.
        show_bar = bool(output) and self.stdout.isatty()
        total = people.count() if show_bar else None
        with tqdm(total=total, unit=" people", disable=not show_bar) as bar:
            records = staff_export_records(people)
            if show_bar:
                records = _counted(records, bar)
            if not output:
                for line in iter_csv(records, bom=False):
                    self.stdout.write(line, ending="")
                return
            path = Path(output)
            try:
                if options["format"] == "xlsx":
                    with path.open("wb") as binary:
                        count = write_xlsx(records, binary)
                else:
                    with path.open("w", encoding="utf-8", newline="") as text:
                        count = write_csv(records, text)
            except OSError as exc:
                raise CommandError(f"Cannot write {path}: {exc.strerror}") from exc
        self.stderr.write(f"Exported {count} people to {path}.")


def _counted(records: Any, bar: tqdm) -> Any:
    for record in records:
        bar.update(1)
        yield record

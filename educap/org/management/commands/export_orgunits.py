"""Export every org unit as CSV, parents before children, streamed for large hierarchies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from educap.org.io.units_csv import UnitRecord, write_units_csv
from educap.org.models import OrgUnit


def _records() -> Iterator[UnitRecord]:
    rows = (
        OrgUnit.objects.order_by("path")  # a parent's path is a prefix of its children's
        .values_list(
            "code",
            "name_en",
            "name_ar",
            "name_fr",
            "name_lo",
            "level__code",
            "parent__code",
            "external_id",
        )
        .iterator(chunk_size=2000)
    )
    for code, name_en, name_ar, name_fr, name_lo, level, parent, external_id in rows:
        # The default-language name, or any translation when only that was ever entered.
        name = name_en or name_ar or name_fr or name_lo or code
        yield UnitRecord(
            row=0,
            code=code,
            name=name,
            level_code=level,
            parent_code=parent or "",
            external_id=external_id or "",
        )


class Command(BaseCommand):
    help = "Export org units as CSV (code,name,level,parent_code,external_id), parents first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv"], default="csv")
        parser.add_argument(
            "-o",
            "--output",
            type=Path,
            help="Write to this file (UTF-8 with a byte-order mark, for spreadsheets) "
            "instead of standard output.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path | None = options["output"]
        if output is None:
            count = write_units_csv(_records(), self.stdout)
        else:
            with output.open("w", encoding="utf-8-sig", newline="") as out:
                count = write_units_csv(_records(), out)
        self.stderr.write(f"Exported {count} units to {output or 'standard output'}.")

"""`manage.py export_courses`: write the training catalogue as CSV or XLSX."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from educap.training.io import catalogue as catalogue_io
from educap.training.models import Course
from educap.training.selectors.catalogue import catalogue_record_queryset, catalogue_records


class Command(BaseCommand):
    help = (
        "Export the training catalogue, one row per course, in the format import_courses "
        "reads (see its help for the columns). Inactive courses are included."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--format",
            choices=["csv", "xlsx"],
            default=None,
            help="Default: from the output file's extension, else csv.",
        )
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")
        parser.add_argument("--programme", help="Only the courses of this programme code.")
        parser.add_argument("--active-only", action="store_true", help="Leave out inactive ones.")

    def handle(self, *args: Any, **options: Any) -> None:
        courses = Course.objects.all()
        if options["programme"]:
            courses = courses.filter(programme__code=options["programme"])
        if options["active_only"]:
            courses = courses.filter(is_active=True)
        records = catalogue_records(courses=catalogue_record_queryset(courses))
        output = options["output"]
        fmt = options["format"] or (catalogue_io.format_of(output) if output else "csv")
        data = catalogue_io.serialise(records, fmt)
        if output:
            Path(output).write_bytes(data)
            self.stdout.write(self.style.SUCCESS(f"Wrote {len(records)} courses to {output}."))
        else:
            sys.stdout.buffer.write(data)

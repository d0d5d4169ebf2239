"""Import org units from a CSV or DHIS2 JSON file: check everything, then apply all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from educap.org.importing import (
    ImportFormat,
    orgunit_import_apply,
    orgunit_import_plan_file,
)


class Command(BaseCommand):
    help = (
        "Import org units from FILE (CSV: code,name,level,parent_code[,name_ar,name_fr,"
        "name_lo,external_id]; or DHIS2 organisationUnits JSON). Every row is checked "
        "first; any problem means nothing is imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--format", choices=[f.value for f in ImportFormat], default=ImportFormat.CSV.value
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report, but write nothing."
        )
        parser.add_argument(
            "--max-size-mb",
            type=int,
            default=None,
            help="Refuse larger files (default: EDUCAP_MAX_UPLOAD_MB).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        limit_mb = options["max_size_mb"] or settings.EDUCAP_MAX_UPLOAD_MB
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        if size > limit_mb * 1024 * 1024:
            raise CommandError(
                f"{path} is {size / 1024 / 1024:.1f} MB, more than the {limit_mb} MB limit "
                "(see --max-size-mb)."
            )
        plan = orgunit_import_plan_file(
            data=path.read_bytes(), file_format=options["format"], source=path.name
        )
        for problem in plan.problems:
            self.stderr.write(str(problem))
        if plan.problems:
            raise CommandError(f"{len(plan.problems)} problem(s) found; nothing was imported.")
        if options["dry_run"]:
            counts = plan.counts
            self.stdout.write(self._summary(counts))
            self.stdout.write("Dry run: nothing was written.")
            return
        try:
            counts = orgunit_import_apply(actor=None, plan=plan)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(self._summary(counts)))

    @staticmethod
    def _summary(counts: dict[str, int]) -> str:
        return (
            f"created: {counts['created']}, updated: {counts['updated']}, "
            f"unchanged: {counts['unchanged']}, moved: {counts['moved']}"
        )

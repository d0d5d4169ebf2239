"""`manage.py import_courses`: load the training catalogue from CSV or XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from educap.training.io import catalogue as catalogue_io
from educap.training.services.catalogue import catalogue_import_apply, catalogue_import_plan

FORMAT_HELP = (
    "One row per course; the first row names the columns. Required: code, title_en, "
    "duration_hours. Optional: programme, programme_title_en/_ar/_fr/_lo, title_ar/_fr/_lo, "
    "description_en/_ar/_fr/_lo, track (core | role | leadership), modality (face | online | "
    "blended | webinar | job | micro), cpd_credits, provider_kind (internal | university | ngo "
    "| online), provider_name, prerequisites and target_roles (codes separated by spaces), "
    "competencies (FRAMEWORK:COMPETENCY=LEVEL separated by spaces, e.g. EMIS-STAFF:DQ.2=3), "
    "cost_per_cohort, cost_per_participant, min_attendance_percent, pass_mark, "
    "records_evidence and active (yes/no). Courses are matched by code: an existing code is "
    "updated, and a column left out of the file leaves that field as it is."
)


class Command(BaseCommand):
    help = "Import the training catalogue (all or nothing). " + FORMAT_HELP

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .csv (UTF-8) or .xlsx file.")
        parser.add_argument("--dry-run", action="store_true", help="Check only; change nothing.")
        parser.add_argument(
            "--max-size-mb",
            type=int,
            default=None,
            help="Refuse larger files (default: EDUCAP_MAX_UPLOAD_MB).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        limit_mb = options["max_size_mb"]
        if limit_mb is None:
            limit_mb = settings.EDUCAP_MAX_UPLOAD_MB
        if path.stat().st_size > limit_mb * 1024 * 1024:
            raise CommandError(f"{path} is larger than {limit_mb} MB.")
        parsed = catalogue_io.parse(path.read_bytes(), catalogue_io.format_of(path.name))
        plan = catalogue_import_plan(records=parsed.records)
        problems = sorted([*parsed.problems, *plan.problems], key=lambda p: (p.row, p.column))
        if problems:
            lines = [
                f"row {p.row}{' ' + p.column if p.column else ''}: {p.message}"
                for p in problems[:50]
            ]
            if len(problems) > 50:
                lines.append(f"... and {len(problems) - 50} more")
            raise CommandError("Nothing imported:\n" + "\n".join(lines))
        summary = (
            f"{len(plan.created)} new, {len(plan.updated)} to update, "
            f"{len(plan.unchanged)} unchanged, {len(plan.new_programmes)} new programmes"
        )
        if options["dry_run"]:
            self.stdout.write(f"Dry run, nothing changed: {summary}.")
            return
        try:
            result = catalogue_import_apply(actor=None, plan=plan)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.created} new, {result.updated} updated, {result.unchanged} unchanged, "
                f"{result.programmes_created} new programmes."
            )
        )

"""`manage.py import_test_items`: load test questions from CSV/XLSX or the shipped bank."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from educap.assessments.io import item_bank
from educap.assessments.knowledge import (
    emis_item_bank_install,
    item_bank_apply,
    item_bank_plan,
)

FORMAT_HELP = (
    "One row per question; the first row names the columns: code, framework, "
    "framework_version (empty = latest published), competency, kind (single | multiple | "
    "true_false | numeric), stem_en/_ar/_fr/_lo, options_en/_ar/_fr/_lo (options separated "
    'by " | "), answer (single: option number, 1 = first; multiple: numbers separated by ";", '
    "e.g. 1;3; true_false: true or false; numeric: the number), tolerance (numeric), "
    "explanation_en/_ar/_fr/_lo, active (yes/no). Questions are matched by code: an existing "
    "code is updated."
)


class Command(BaseCommand):
    help = "Import knowledge-test questions (the item bank). " + FORMAT_HELP

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="A .csv (UTF-8) or .xlsx file.")
        parser.add_argument(
            "--emis",
            action="store_true",
            help="Load the in-house EMIS item bank shipped with EduCap (needs the EMIS "
            "framework installed: manage.py install_emis_framework).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check only; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["emis"]:
            try:
                created, updated = emis_item_bank_install()
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            self.stdout.write(
                self.style.SUCCESS(f"EMIS item bank: {created} new, {updated} updated.")
            )
            return
        if not options["file"]:
            raise CommandError("Give a file, or --emis.")
        path = Path(options["file"])
        fmt = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
        parsed = item_bank.parse(path.read_bytes(), fmt)
        plan = item_bank_plan(records=parsed.records)
        problems = [
            *(f"row {p.location} {p.column}: {p.message}" for p in parsed.problems),
            *(f"row {p.location}: {p.message}" for p in plan.problems),
        ]
        if problems:
            raise CommandError("Nothing imported:\n" + "\n".join(problems[:50]))
        if options["dry_run"]:
            self.stdout.write(f"{len(plan.created)} new, {len(plan.updated)} to update.")
            return
        created, updated = item_bank_apply(actor=None, plan=plan)
        self.stdout.write(self.style.SUCCESS(f"{created} new, {updated} updated."))

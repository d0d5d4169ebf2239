"""Import a staff list (CSV or XLSX) as the system: check everything, then apply all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from educap.people.importing import staff_import_apply, staff_import_plan
from educap.people.io.staff import Problem, parse_file

BIG_FILE_BYTES = 1024 * 1024


def format_problem(problem: Problem) -> str:
    if problem.row == 0:
        return f"file: {problem.message}"
    if not problem.column:
        return f"row {problem.row}: {problem.message}"
    return f"row {problem.row}, column {problem.column}: {problem.message}"


class Command(BaseCommand):
    help = (
        "Import staff from a .csv or .xlsx file. Every row is checked first; nothing is written"
        " unless the whole file is valid. Re-importing the same file changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Path to a .csv (UTF-8) or .xlsx file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report, write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if path.suffix.lower() not in {".csv", ".xlsx"}:
            raise CommandError(f"{path.name}: use a .csv or .xlsx file.")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc

        show_bar = self.stdout.isatty() and len(data) >= BIG_FILE_BYTES
        with tqdm(desc="Checking", unit=" rows", disable=not show_bar) as bar:
            parsed = parse_file(path.name, data, progress=bar.update)
        with tqdm(
            desc="Comparing", total=len(parsed.records), unit=" rows", disable=not show_bar
        ) as bar:
            plan = staff_import_plan(
                actor=None,
                records=parsed.records,
                file_problems=parsed.problems,
                progress=bar.update,
            )
        for problem in plan.problems:
            self.stderr.write(format_problem(problem))
        if plan.problems:
            raise CommandError(
                f"{len(plan.problems)} problem(s) found in {path.name}; nothing was imported."
            )

        summary = (
            f"{plan.rows} rows: {plan.created} created, {plan.updated} updated,"
            f" {plan.posts_changed} changed post, {plan.unchanged} unchanged."
        )
        if options["dry_run"]:
            self.stdout.write(f"Dry run, nothing written. {summary}")
            return
        with tqdm(desc="Writing", unit=" rows", disable=not show_bar) as bar:
            staff_import_apply(actor=None, plan=plan, progress=bar.update)
        self.stdout.write(self.style.SUCCESS(f"Imported {path.name}. {summary}"))

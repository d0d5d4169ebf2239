"""Import ODK Central / KoboToolbox submissions of a campaign form: check all, then store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from educap.assessments.io.odk import Problem
from educap.assessments.models import Campaign
from educap.assessments.submissions import ImportResult, submissions_import, write_rejections

BIG_FILE_BYTES = 1024 * 1024
SHOWN_PROBLEMS = 200


def format_problem(problem: Problem) -> str:
    if problem.row == 0:
        return f"file: {problem.message}"
    where = (
        f"row {problem.row}, column {problem.column}" if problem.column else f"row {problem.row}"
    )
    return f"{where}: {problem.message}"


def summary(result: ImportResult) -> str:
    return (
        f"{result.rows} submissions read: {result.new} new, {result.unchanged} unchanged, "
        f"{result.rejected} rejected; {result.ratings} ratings and "
        f"{result.survey_answers} survey answers."
    )


class Command(BaseCommand):
    help = (
        "Import the submissions of a campaign's XLSForm from FILE: an ODK Central CSV export "
        "or a KoboToolbox export (XLSX, or CSV with XML values). Every row is checked first; "
        "nothing is stored from a file with problems unless --skip-invalid is given. "
        "Submissions already imported with the same answers are skipped."
    )

    # A data load, often scripted: the system checks (seconds on a slow server) add nothing.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="Campaign code.")
        parser.add_argument("file", type=Path, help="A .csv or .xlsx export.")
        parser.add_argument("--dry-run", action="store_true", help="Check and report only.")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Store the valid submissions and leave out the rejected ones.",
        )
        parser.add_argument("--report", type=Path, help="Write the rejected rows to this CSV file.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if path.suffix.lower() not in {".csv", ".xlsx"}:
            raise CommandError(f"{path.name}: use a .csv or .xlsx file.")
        if not path.is_file():
            raise CommandError(f"Cannot read {path}.")
        try:
            campaign = Campaign.objects.select_related("framework").get(code=options["campaign"])
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"No campaign {options['campaign']}.") from exc
        show_bar = self.stderr.isatty() and path.stat().st_size >= BIG_FILE_BYTES
        with tqdm(desc="Checking", unit=" submissions", disable=not show_bar) as bar:
            try:
                result = submissions_import(
                    actor=None,
                    campaign=campaign,
                    source=path,
                    file_name=path.name,
                    dry_run=options["dry_run"],
                    skip_invalid=options["skip_invalid"],
                    progress=bar.update,
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        for problem in result.problems[:SHOWN_PROBLEMS]:
            self.stderr.write(format_problem(problem))
        if len(result.problems) > SHOWN_PROBLEMS:
            self.stderr.write(f"… and {len(result.problems) - SHOWN_PROBLEMS} more problems.")
        if options["report"] and result.problems:
            with options["report"].open("w", newline="", encoding="utf-8") as out:
                write_rejections(result, out)
            self.stderr.write(f"Rejected rows written to {options['report']}.")
        if options["dry_run"]:
            self.stdout.write(f"Dry run, nothing written. {summary(result)}")
            return
        if not result.stored:
            raise CommandError(
                f"{len(result.problems)} problem(s) found in {path.name}; nothing was imported."
                + ("" if result.file_problems else " Use --skip-invalid to store the valid rows.")
            )
        self.stdout.write(self.style.SUCCESS(f"Imported {path.name}. {summary(result)}"))
        if result.levels_deferred:
            self.stdout.write(
                f"The task worker (manage.py db_worker) now refreshes the current levels of "
                f"{result.levels_deferred} people."
            )

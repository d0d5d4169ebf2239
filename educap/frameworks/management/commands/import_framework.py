"""Import a competency framework from a CASE, Moodle CSV or XLSX file, all or nothing."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from educap.frameworks.importing import (
    FrameworkImportPlan,
    framework_import_apply,
    framework_import_plan,
)
from educap.frameworks.io.records import Problem

# --format -> module in educap.frameworks.io offering parse(bytes) and serialise(record).
FORMAT_MODULES = {"case": "case", "moodle": "moodle_csv", "xlsx": "xlsx"}


def format_module(name: str) -> ModuleType:
    """The io module of a format, imported only when asked for."""
    dotted = f"educap.frameworks.io.{FORMAT_MODULES[name]}"
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name != dotted:
            raise
        raise CommandError(f"The {name} format is not available yet.") from exc


def problem_line(problem: Problem) -> str:
    location = f"{problem.location} ({problem.column})" if problem.column else problem.location
    return f"{location}: {problem.message}"


def plan_summary(plan: FrameworkImportPlan) -> str:
    counts = plan.counts
    return (
        f"{plan.code} {plan.version}: {plan.outcome}. Items created: {counts['items_created']}, "
        f"updated: {counts['items_updated']}, deleted: {counts['items_deleted']}, "
        f"unchanged: {counts['items_unchanged']}; level indicators: {counts['indicators']}, "
        f"relations: {counts['relations']}, role profiles: {counts['profiles']} "
        f"({counts['requirements']} requirements)."
    )


class Command(BaseCommand):
    help = (
        "Import a competency framework from FILE (CASE 1.1 JSON package, Moodle competency "
        "framework CSV or the EduCap XLSX template). Everything is checked first; any "
        "problem means nothing is imported. Importing the same file again changes nothing."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Our --version (of the framework) replaces Django's --version (of Django).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=sorted(FORMAT_MODULES), required=True)
        parser.add_argument(
            "--code",
            help="Framework code to import into (default: the CASE document identifier "
            "or the Moodle framework id number).",
        )
        parser.add_argument(
            "--version",
            dest="framework_version",
            help="Version to import as (default: the file's).",
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
        module = format_module(options["format"])
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
        result = module.parse(path.read_bytes())
        self._report(result.problems)
        if result.record is None or result.problems:
            raise CommandError(
                f"{len(result.problems)} problem(s) found in {path.name}; nothing was imported."
            )
        plan = framework_import_plan(
            actor=None,
            record=result.record,
            code=options["code"],
            version=options["framework_version"],
            source=path.name,
        )
        for warning in plan.warnings:
            self.stderr.write(f"warning: {problem_line(warning)}")
        self._report(plan.problems)
        if plan.problems:
            raise CommandError(f"{len(plan.problems)} problem(s) found; nothing was imported.")
        if options["dry_run"]:
            self.stdout.write(plan_summary(plan))
            self.stdout.write("Dry run: nothing was written.")
            return
        try:
            framework_import_apply(actor=None, plan=plan)
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError(" ".join(messages)) from exc
        self.stdout.write(self.style.SUCCESS(plan_summary(plan)))

    def _report(self, problems: list[Problem]) -> None:
        for problem in problems:
            self.stderr.write(problem_line(problem))

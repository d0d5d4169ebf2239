"""Export a competency framework version as CASE 1.1 JSON, Moodle CSV or the XLSX template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Case, IntegerField, Value, When

from educap.frameworks.exporting import framework_to_record
from educap.frameworks.management.commands.import_framework import FORMAT_MODULES, format_module
from educap.frameworks.models import Framework, FrameworkStatus


class Command(BaseCommand):
    help = (
        "Export framework CODE (the latest published version, or the latest version when none "
        "is published, unless --version says which) to FILE."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Our --version (of the framework) replaces Django's --version (of Django).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code")
        parser.add_argument("--version", dest="framework_version")
        parser.add_argument("--format", choices=sorted(FORMAT_MODULES), required=True)
        parser.add_argument("-o", "--output", type=Path, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        code: str = options["code"]
        version: str | None = options["framework_version"]
        module = format_module(options["format"])
        versions = Framework.objects.filter(code=code)
        if version:
            versions = versions.filter(version=version)
        framework = versions.order_by(
            Case(
                When(status=FrameworkStatus.PUBLISHED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            "-published_at",
            "-created_at",
            "-pk",
        ).first()
        if framework is None:
            which = f"version {version} of " if version else ""
            raise CommandError(f"There is no {which}framework {code}.")
        record = framework_to_record(framework)
        if options["format"] == "case":
            data = module.serialise(record, changed_at=framework.updated_at)
        else:
            data = module.serialise(record)
        output: Path = options["output"]
        try:
            output.write_bytes(data)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}") from exc
        self.stdout.write(
            f"Exported {framework.code} {framework.version} ({len(record.items)} items, "
            f"{framework.get_status_display()}) to {output}."
        )

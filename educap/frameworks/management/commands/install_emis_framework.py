"""`manage.py install_emis_framework`: install the EMIS staff competency framework.

Imports the framework that ships with EduCap (educap/frameworks/data/emis/) with its role
profiles and publishes it. Running it again changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from educap.frameworks.emis import (
    EmisFrameworkError,
    emis_framework_install,
    emis_framework_record,
)
from educap.frameworks.models import Framework


class Command(BaseCommand):
    help = (
        "Install (import and publish) the EMIS staff competency framework that ships with "
        "EduCap, with its role profiles. Safe to run again: an installed version is left as "
        "it is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--draft",
            action="store_true",
            help="Leave a newly imported framework as a draft instead of publishing it.",
        )
        parser.add_argument(
            "--no-create-roles",
            action="store_true",
            help="Do not add missing roles to the catalogue; report them as problems instead.",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only check the shipped files; touch nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            record = emis_framework_record()
        except EmisFrameworkError as exc:
            raise CommandError(str(exc)) from exc
        competencies = sum(1 for item in record.items if item.kind == "competency")
        domains = len(record.items) - competencies
        summary = (
            f"{record.code} {record.version}: {domains} domains, {competencies} competencies, "
            f"{len(record.profiles)} role profiles"
        )
        if options["check"]:
            self.stdout.write(self.style.SUCCESS(f"The shipped files are valid ({summary})."))
            return
        before = Framework.objects.filter(code=record.code, version=record.version).first()
        status_before = before.status if before is not None else None
        try:
            framework = emis_framework_install(
                publish=not options["draft"], create_roles=not options["no_create_roles"]
            )
        except EmisFrameworkError as exc:
            raise CommandError(str(exc)) from exc
        if before is None:
            verb = "Installed"
        elif status_before != framework.status:
            verb = "Published"
        else:
            verb = "Already installed, nothing changed:"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {summary} ({framework.get_status_display()}).")
        )

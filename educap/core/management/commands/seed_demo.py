"""`manage.py seed_demo`: load the fictional demo ministry (see educap/core/demo.py)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from educap.core import demo
from educap.org.models import OrgUnit


class Command(BaseCommand):
    help = (
        "Load a deterministic, fictional ministry (units, roles, staff, vacancies, demo users). "
        "Refuses a database that already has org units unless --if-empty or --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--staff",
            type=int,
            default=demo.DEFAULT_STAFF,
            help=f"Number of staff; the hierarchy scales with it (default {demo.DEFAULT_STAFF}).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help="Same seed, same ministry.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and say so) when any org unit exists.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Delete all units, staff, vacancies and the demo users first.",
        )
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--no-framework",
            action="store_true",
            help="Do not install the EMIS competency framework that ships with EduCap.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        staff: int = options["staff"]
        if staff < demo.MIN_STAFF:
            raise CommandError(f"--staff must be at least {demo.MIN_STAFF}.")
        if OrgUnit.objects.exists():
            if options["if_empty"]:
                self.stdout.write("database already has data; demo not loaded")
                self._install_framework(options)
                self._write_logins(demo.demo_logins())
                return
            if not options["force"]:
                raise CommandError(
                    "The database already has org units. Use --if-empty to keep them, or "
                    "--force to delete all units, staff and demo users and load the demo."
                )
        progress = not options["quiet"] and sys.stderr.isatty()
        try:
            summary = demo.demo_load(
                staff=staff, seed=options["seed"], wipe=options["force"], progress=progress
            )
        except (demo.DemoError, DatabaseError) as error:
            raise CommandError(f"Demo not loaded: {error}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ministry loaded (seed {summary.seed}) in {summary.seconds:.1f} s: "
                f"{summary.governorates:,} governorates, {summary.districts:,} districts, "
                f"{summary.schools:,} schools, {summary.staff:,} staff, "
                f"{summary.vacancies:,} vacancies."
            )
        )
        self._install_framework(options)
        self._write_logins(summary.logins)

    def _install_framework(self, options: dict[str, Any]) -> None:
        """The demo ministry uses the shipped EMIS framework (installing twice changes nothing)."""
        if options["no_framework"]:
            return
        from educap.frameworks.emis import emis_framework_install

        framework = emis_framework_install()
        self.stdout.write(
            f"Competency framework: {framework.title} {framework.version} "
            f"({framework.get_status_display()})."
        )

    def _write_logins(self, logins: list[demo.DemoLogin]) -> None:
        if logins:
            self.stdout.write("\nDemo logins:\n" + demo.logins_table(logins))

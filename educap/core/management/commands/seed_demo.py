"""`manage.py seed_demo`: load the fictional demo ministry (see educap/core/demo.py)."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from educap.core import demo
from educap.org.models import OrgUnit

if TYPE_CHECKING:
    from educap.frameworks.models import Framework


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
            help="Do not install the EMIS competency framework that ships with EduCap "
            "(nor the demo campaigns, which use it).",
        )
        parser.add_argument(
            "--no-campaigns",
            action="store_true",
            help="Do not create the demo assessment campaigns and ratings.",
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
        framework = self._install_framework(options)
        if framework is not None and not options["no_campaigns"]:
            self._load_campaigns(framework, options["seed"])
        if framework is not None:
            self._rebuild_gaps()
            if not options["no_campaigns"]:
                self._load_training(framework, options["seed"])
                # Training completions raised some levels: bring the rollups up to date
                # now (the worker would), so "now" differs from the closed campaign's period.
                from educap.gaps.engine import gaps_apply_changes

                gaps_apply_changes()
        self._write_logins(summary.logins)

    def _install_framework(self, options: dict[str, Any]) -> Framework | None:
        """The demo ministry uses the shipped EMIS framework (installing twice changes nothing)."""
        if options["no_framework"]:
            return None
        from educap.frameworks.emis import emis_framework_install

        framework = emis_framework_install()
        self.stdout.write(
            f"Competency framework: {framework.title} {framework.version} "
            f"({framework.get_status_display()})."
        )
        return framework

    def _load_campaigns(self, framework: Framework, seed: int) -> None:
        from educap.assessments.demo import demo_assessments_load

        started = time.monotonic()
        summary = demo_assessments_load(framework=framework, seed=seed)
        survey = "" if summary.survey else " (no MASS survey installed: survey part skipped)"
        self.stdout.write(
            f"Demo campaigns: {summary.campaigns} with {summary.assignments:,} assignments, "
            f"{summary.ratings:,} ratings and {summary.current_levels:,} current levels "
            f"in {time.monotonic() - started:.1f} s{survey}."
        )

    def _load_training(self, framework: Framework, seed: int) -> None:
        """The demo catalogue, sessions in every status (their completions write
        certificates, CPD records and training evidence) and external CPD records."""
        from educap.audit.models import AuditAction
        from educap.audit.services import audit_summarised
        from educap.gaps.engine import gaps_apply_changes
        from educap.training.demo_catalogue import demo_catalogue_load
        from educap.training.demo_cpd import demo_cpd_load
        from educap.training.demo_sessions import demo_sessions_load

        started = time.monotonic()
        # One audit event for the demo's training data, not one per enrolment.
        with audit_summarised(
            actor=None,
            action=AuditAction.CREATE,
            object_type="training.demo",
            object_repr="Demo catalogue, sessions and CPD records loaded",
        ):
            courses = demo_catalogue_load(framework=framework)
            sessions = demo_sessions_load(seed=seed)
            records = demo_cpd_load(seed=seed)
        # Completions recorded training evidence: bring the rollups up to date now.
        gaps_apply_changes()
        self.stdout.write(
            f"Demo training: {courses} courses, {sessions.get('sessions', 0)} sessions, "
            f"{sessions.get('certificates', 0)} certificates, {records:,} CPD records "
            f"in {time.monotonic() - started:.1f} s."
        )

    def _rebuild_gaps(self) -> None:
        """The dashboards answer from stored rollups: fill them now, not when a worker runs."""
        from educap.gaps.engine import gaps_rebuild

        started = time.monotonic()
        rows = gaps_rebuild()
        self.stdout.write(f"Gap rollups: {rows:,} rows in {time.monotonic() - started:.1f} s.")
        # Closed campaigns get their period's snapshot, as closing one through the
        # service would (the demo writes them closed).
        from educap.assessments.models import Campaign, CampaignStatus
        from educap.gaps.services import gap_snapshot_take

        closed = Campaign.objects.filter(status=CampaignStatus.CLOSED, gap_snapshot__isnull=True)
        for campaign in closed:
            snapshot = gap_snapshot_take(actor=None, campaign=campaign)
            self.stdout.write(f"Gap snapshot of {campaign.code}: {snapshot.rows:,} rows.")

    def _write_logins(self, logins: list[demo.DemoLogin]) -> None:
        if logins:
            self.stdout.write("\nDemo logins:\n" + demo.logins_table(logins))

"""Derive every current level again from the evidence (same result as the increments)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from educap.assessments.consolidation import (
    current_levels_expire,
    current_levels_rebuild,
    current_rule,
)


class Command(BaseCommand):
    help = "Rebuild current levels from ratings with the configured consolidation rule."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--expired-only",
            action="store_true",
            help="Only recompute people whose current evidence has expired (run daily).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        rule = current_rule()
        if options["expired_only"]:
            people = current_levels_expire()
            self.stdout.write(f"Recomputed {people} people with expired evidence.")
            return
        count = current_levels_rebuild(rule=rule)
        tiers = " > ".join("+".join(tier) for tier in rule.tiers)
        self.stdout.write(self.style.SUCCESS(f"{count} current levels rebuilt (rule: {tiers})."))

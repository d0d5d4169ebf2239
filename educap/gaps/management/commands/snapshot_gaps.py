"""Keep the gap rollups as they stand now as the gaps at the end of a campaign's period."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from educap.assessments.models import Campaign
from educap.gaps.services import gap_snapshot_take


class Command(BaseCommand):
    help = (
        "Snapshot the gap rollups for a campaign (done by the worker when a campaign "
        "closes; run it to take one again, e.g. after late corrections)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", required=True, help="campaign code")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(code=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"No campaign with the code {options['campaign']!r}.")
        snapshot = gap_snapshot_take(actor=None, campaign=campaign)
        self.stdout.write(
            self.style.SUCCESS(f"{snapshot.rows} rollup rows kept for {campaign.code}.")
        )

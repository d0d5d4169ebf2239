"""Write a campaign as an XLSForm for ODK Collect / KoboCollect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from educap.assessments.io.xlsform import XLSFormError, workbook_bytes
from educap.assessments.models import Campaign, CampaignStatus
from educap.assessments.submissions import campaign_form_spec
from educap.org.models import OrgUnit


class Command(BaseCommand):
    help = (
        "Write CAMPAIGN as an XLSForm (.xlsx) to upload to ODK Central or KoboToolbox. "
        "Data collectors pick governorate, district, office or school, then the person. "
        "Every person rated in the campaign is a choice in the form, so a national form "
        "with hundreds of thousands of staff is too big for phones: use --unit to make one "
        "form per governorate or district."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="Campaign code.")
        parser.add_argument("-o", "--output", type=Path, required=True, help="The .xlsx to write.")
        parser.add_argument(
            "--unit", help="Org unit code: only people in this unit's subtree are listed."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            campaign = Campaign.objects.select_related("framework", "survey").get(
                code=options["campaign"]
            )
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"No campaign {options['campaign']}.") from exc
        if campaign.status == CampaignStatus.DRAFT:
            raise CommandError(
                f"Campaign {campaign.code} is a draft: launch it first, the form lists the "
                "people it assigns."
            )
        unit = None
        if options["unit"]:
            unit = OrgUnit.objects.filter(code=options["unit"]).first()
            if unit is None:
                raise CommandError(f"No org unit {options['unit']}.")
        spec = campaign_form_spec(campaign=campaign, unit=unit)
        try:
            data = workbook_bytes(spec)
        except XLSFormError as exc:
            raise CommandError(str(exc)) from exc
        options["output"].write_bytes(data)
        competencies = sum(len(d.competencies) for d in spec.domains)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {options['output']}: {len(spec.persons)} people, "
                f"{len(spec.offices)} offices/schools, {competencies} competencies, "
                f"{sum(len(s.questions) for s in spec.sections)} survey questions "
                f"(form id {spec.form_id}, version {spec.version})."
            )
        )

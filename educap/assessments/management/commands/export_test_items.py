"""`manage.py export_test_items`: write the item bank as CSV or XLSX."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from educap.assessments.io import item_bank
from educap.assessments.knowledge import item_bank_records
from educap.assessments.models import TestItem


class Command(BaseCommand):
    help = (
        "Export the knowledge-test item bank in the format import_test_items reads "
        "(see its help for the columns)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")
        parser.add_argument("--framework", help="Only questions on this framework code.")

    def handle(self, *args: Any, **options: Any) -> None:
        items = TestItem.objects.select_related("competency__framework").prefetch_related("choices")
        if options["framework"]:
            items = items.filter(competency__framework__code=options["framework"])
        data = item_bank.serialise(item_bank_records(items=items), options["format"])
        if options["output"]:
            with open(options["output"], "wb") as out:
                out.write(data)
            self.stdout.write(self.style.SUCCESS(f"Wrote {items.count()} questions."))
        else:
            sys.stdout.buffer.write(data)

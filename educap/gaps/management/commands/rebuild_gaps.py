"""Recompute every gap rollup from role profiles, staff and current levels."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from educap.gaps.engine import gaps_rebuild, requirements_materialise


class Command(BaseCommand):
    help = "Rebuild the stored gap rollups (identical to what the increments maintain)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        requirements = requirements_materialise()
        self.stdout.write(f"{requirements} resolved role requirements.")
        rows = gaps_rebuild(materialise=False)
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"{rows} rollup rows in {elapsed:.1f} s."))

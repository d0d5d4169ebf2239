"""The default five-level scale, also when a test flush or a manual clean-up removed it."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.db import transaction

from educap.frameworks.models import ProficiencyScale

DEFAULT_SCALE_CODE = "default-5"
_MIGRATION = "educap.frameworks.migrations.0002_default_proficiency_scale"


@transaction.atomic
def ensure_default_scale() -> ProficiencyScale:
    """The scale the data migration creates; recreated from the same data if it is missing."""
    scale = ProficiencyScale.objects.filter(code=DEFAULT_SCALE_CODE).first()
    if scale is None:
        importlib.import_module(_MIGRATION).create_default_scale(apps, None)
        scale = ProficiencyScale.objects.get(code=DEFAULT_SCALE_CODE)
    return scale

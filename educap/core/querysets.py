"""Querysets that bypass custom managers."""

from __future__ import annotations

from typing import TypeVar

from django.db import models
from django.db.models import QuerySet

M = TypeVar("M", bound=models.Model)


def plain_queryset(model: type[M]) -> QuerySet[M]:
    """A bare queryset on ``model``.

    modeltranslation's manager rewrites translated field names to the active language;
    importers and the CASE binding need the stored base columns as they are.
    """
    return QuerySet(model=model)

"""Reads for the xAPI admin pages (system administrators see every client's statements)."""

from __future__ import annotations

from django.db.models import QuerySet

from educap.training.models import XapiActivity, XapiClient, XapiStatement

NOT_MATCHED = "none"  # outcome filter value for statements that changed nothing


def client_list() -> QuerySet[XapiClient]:
    return XapiClient.objects.select_related("created_by").order_by("-is_active", "name", "pk")


def activity_list() -> QuerySet[XapiActivity]:
    return XapiActivity.objects.select_related("course").order_by("course__code", "activity_id")


def statement_list(
    *, client_id: int | None = None, verb: str = "", outcome: str = ""
) -> QuerySet[XapiStatement]:
    rows = XapiStatement.objects.select_related("client", "person").order_by("-stored", "-pk")
    if client_id is not None:
        rows = rows.filter(client_id=client_id)
    if verb:
        rows = rows.filter(verb_id=verb)
    if outcome == NOT_MATCHED:
        rows = rows.filter(outcome="")
    elif outcome:
        rows = rows.filter(outcome=outcome)
    return rows

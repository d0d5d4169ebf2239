"""Reads only the API needs, scoped like `educap.assessments.selectors`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from educap.accounts.scope import scope_for
from educap.assessments.models import Rating, Source

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User


def rating_list(*, user: User | AnonymousUser) -> QuerySet[Rating]:
    """Evidence about the people the caller may read, newest first.

    `rater_shown` is the rater's id, except on peer ratings of the caller: peer raters stay
    anonymous to the person rated (whatever else the caller's grants allow).
    """
    scope = scope_for(user)
    own_peer = Q(source=Source.PEER, person_id=scope.person_id) if scope.person_id else Q(pk=None)
    return (
        Rating.objects.filter(scope.person_q(prefix="person__"))
        .select_related("item", "campaign")
        .annotate(
            rater_shown=Case(
                When(own_peer, then=Value(None)),
                default=F("rater_id"),
                output_field=IntegerField(null=True),
            )
        )
        .order_by("-rated_at", "-id")
    )

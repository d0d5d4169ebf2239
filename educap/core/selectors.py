from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from educap.accounts.scope import scope_for
from educap.org.models import OrgUnit
from educap.people.selectors import person_list

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User


@dataclass(frozen=True)
class HomeSummary:
    staff_in_scope: int | None
    units: int
    my_unit: OrgUnit | None


def home_summary(*, user: User | AnonymousUser) -> HomeSummary:
    scope = scope_for(user)
    staff = person_list(user=user).count() if scope.sees_personal_data_of_others else None
    person = getattr(user, "person", None)
    return HomeSummary(
        staff_in_scope=staff,
        units=OrgUnit.objects.count(),
        my_unit=person.unit if person is not None and person.unit_id else None,
    )

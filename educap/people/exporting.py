"""Staff export: the people a caller may see, as records for io/staff.py to serialise."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from educap.people.io.staff import StaffRecord
from educap.people.models import Assignment, Person
from educap.people.selectors import filter_people, person_list

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User
    from educap.org.models import OrgUnit
    from educap.people.models import Role

_VALUES = (
    "staff_number",
    "given_name",
    "family_name",
    "name_local",
    "sex",
    "national_id",
    "birth_year",
    "hire_date",
    "email",
    "phone",
    "unit__code",
    "role__code",
    "supervisor__staff_number",
    "post_start",
    "is_active",
)


def staff_export_queryset(
    *,
    user: User | AnonymousUser | None,
    unit: OrgUnit | None = None,
    role: Role | None = None,
    sex: str | None = None,
    active: bool | None = None,
    search: str = "",
) -> QuerySet[Person]:
    """People to export. `user=None` is the system (management commands): everyone."""
    if user is None:
        people = filter_people(
            Person.objects.all(), unit=unit, role=role, sex=sex, active=active, search=search
        )
    else:
        people = person_list(user=user, unit=unit, role=role, sex=sex, active=active, search=search)
    return people.order_by("staff_number")


def staff_export_records(people: QuerySet[Person]) -> Iterator[StaffRecord]:
    """Stream records with the current post's codes and start date, without loading models."""
    today = timezone.localdate()
    # The post Person.unit/role/supervisor mirror (rule of services._sync_current_post).
    current_post = (
        Assignment.objects.filter(person=OuterRef("pk"), is_primary=True, start_date__lte=today)
        .exclude(end_date__lt=today)
        .order_by("-start_date", "-id")
        .values("start_date")[:1]
    )
    rows = (
        people.annotate(post_start=Subquery(current_post))
        .values_list(*_VALUES)
        .iterator(chunk_size=2000)
    )
    for row in rows:
        (
            staff_number,
            given_name,
            family_name,
            name_local,
            sex,
            national_id,
            birth_year,
            hire_date,
            email,
            phone,
            unit_code,
            role_code,
            supervisor_staff_number,
            start_date,
            is_active,
        ) = row
        yield StaffRecord(
            staff_number=staff_number,
            given_name=given_name,
            family_name=family_name,
            name_local=name_local,
            sex=sex,
            national_id=national_id,
            birth_year=birth_year,
            hire_date=hire_date,
            email=email,
            phone=phone,
            unit_code=unit_code or "",
            role_code=role_code or "",
            supervisor_staff_number=supervisor_staff_number or "",
            start_date=start_date,
            active=is_active,
        )

"""Reads of staff data, always limited to what the caller may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Upper
from django.http import Http404

from educap.accounts.scope import scope_for
from educap.people.models import Assignment, Person, Role, Vacancy

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User
    from educap.org.models import OrgUnit


def person_list(
    *,
    user: User | AnonymousUser,
    unit: OrgUnit | None = None,
    role: Role | None = None,
    sex: str | None = None,
    active: bool | None = None,
    search: str = "",
) -> QuerySet[Person]:
    scoped = Person.objects.filter(scope_for(user).person_q())
    return filter_people(
        scoped, unit=unit, role=role, sex=sex, active=active, search=search
    ).select_related("unit", "role", "unit__level")


def filter_people(
    people: QuerySet[Person],
    *,
    unit: OrgUnit | None = None,
    role: Role | None = None,
    sex: str | None = None,
    active: bool | None = None,
    search: str = "",
) -> QuerySet[Person]:
    """The staff-list filters, on a queryset the caller has already scoped."""
    if unit is not None:
        people = people.filter(unit__path__startswith=unit.path)
    if role is not None:
        people = people.filter(role=role)
    if sex:
        people = people.filter(sex=sex)
    if active is not None:
        people = people.filter(is_active=active)
    search = search.strip()
    if search:
        terms = Q()
        # Each word matches the start of a name (indexed on PostgreSQL) or a whole staff number.
        for word in search.split()[:4]:
            terms &= (
                Q(given_name__istartswith=word)
                | Q(family_name__istartswith=word)
                | Q(name_local__istartswith=word)
                | Q(staff_number=word.upper())
            )
        # Sorting on an expression keeps PostgreSQL from walking the whole name index to find
        # the few matches: it uses the prefix indexes, then sorts the (small) result.
        people = people.filter(terms).order_by(Upper("family_name"), Upper("given_name"), "id")
    return people


def person_get(*, user: User | AnonymousUser, pk: int) -> Person:
    """One person the caller may read, or 404 (never reveal that the record exists)."""
    try:
        return person_list(user=user).select_related("supervisor").get(pk=pk)
    except Person.DoesNotExist as exc:
        raise Http404 from exc


def assignment_list(
    *, user: User | AnonymousUser, person: Person | None = None
) -> QuerySet[Assignment]:
    scope = scope_for(user)
    assignments = Assignment.objects.filter(scope.person_q(prefix="person__"))
    if person is not None:
        assignments = assignments.filter(person=person)
    return assignments.select_related("person", "role", "unit", "supervisor")


def vacancy_list(*, user: User | AnonymousUser, unit: OrgUnit | None = None) -> QuerySet[Vacancy]:
    """Vacant posts are not personal data, but only managers and admins plan with them."""
    scope = scope_for(user)
    vacancies = Vacancy.objects.select_related("unit", "role")
    if not scope.is_admin:
        paths = scope.subtree_paths + scope.aggregate_paths
        query = Q(pk__in=[])
        for path in paths:
            query |= Q(unit__path__startswith=path)
        vacancies = vacancies.filter(query)
    if unit is not None:
        vacancies = vacancies.filter(unit__path__startswith=unit.path)
    return vacancies


def role_list() -> QuerySet[Role]:
    return Role.objects.all()


@dataclass(frozen=True)
class HeadcountRow:
    role: str
    female: int | None  # None: suppressed (fewer than the small-cell threshold)
    male: int | None
    total: int | None


def headcount_by_role_and_sex(*, user: User | AnonymousUser, unit: OrgUnit) -> list[HeadcountRow]:
    """Active staff in a subtree by role and sex: aggregates, not personal data.

    Partner viewers get small cells suppressed; people who may read the records do not.
    """
    scope = scope_for(user)
    if not scope.can_see_aggregates_of(unit):
        raise PermissionDenied
    suppress = not (scope.is_admin or scope.can_manage_unit(unit))
    threshold = settings.EDUCAP_SMALL_CELL_THRESHOLD
    rows = (
        Person.objects.filter(unit__path__startswith=unit.path, is_active=True)
        .values("role_id", "sex")
        .annotate(n=Count("id"))
        .order_by()
    )
    roles = Role.objects.in_bulk()  # a small catalogue; names come in the active language
    table: dict[str, dict[str, int]] = {}
    for row in rows:
        role = roles.get(row["role_id"])
        table.setdefault(str(role.name) if role else "—", {})[row["sex"]] = row["n"]

    def cell(n: int) -> int | None:
        return None if suppress and 0 < n < threshold else n

    return [
        HeadcountRow(
            role=role,
            female=cell(counts.get("F", 0)),
            male=cell(counts.get("M", 0)),
            total=cell(sum(counts.values())),
        )
        for role, counts in sorted(table.items())
    ]

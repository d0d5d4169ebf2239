"""Reads of continuing professional development (CPD), limited to what the caller may see.

A person's year counts approved records completed from 1 January to 31 December against the
requirement of their current role for that year; pending records are shown beside it, never
added in. Unit compliance is one GROUP BY over the staff of a subtree and their approved
records, rolled up to the unit's children through the materialised paths (see
`unit_compliance`); partner viewers get the same aggregates with small cells hidden.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from educap.accounts.scope import scope_for
from educap.org.models import OrgUnit
from educap.people.models import Person, Role, Sex
from educap.training.models import CpdRecord, CpdRequirement, CpdStatus
from educap.training.services.cpd import MAX_AGE_YEARS, CpdErrorCode

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User

    AnyUser = User | AnonymousUser

ZERO = Decimal(0)
TENTH = Decimal("0.1")
# Amounts have one decimal place; SQLite adds them up as floating point (0.7 + 0.1 gives
# 0.7999…), so "reached" compares with half a tenth of slack, exact on every backend.
SLACK = Decimal("0.05")


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def cpd_years(*, today: dt.date | None = None) -> list[int]:
    """The years a CPD page offers, newest first (next year too, for requirements)."""
    this = (today or timezone.localdate()).year
    return list(range(this + 1, this - MAX_AGE_YEARS - 1, -1))


def _amount(value: Any) -> Decimal:
    """A summed amount as a Decimal with one decimal place, whatever the backend returned."""
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(TENTH)


# --- records ---------------------------------------------------------------------------


def cpd_record_list(
    *,
    user: AnyUser,
    person: Person | int | None = None,
    year: int | None = None,
    status: str = "",
    kind: str = "",
    search: str = "",
) -> QuerySet[CpdRecord]:
    """Records of the people the caller may read (self, direct reports, managed subtrees)."""
    scope = scope_for(user)
    records = CpdRecord.objects.filter(scope.person_q(prefix="person__"))
    if person is not None:
        records = records.filter(person=person)
    if year is not None:
        records = records.filter(completed_on__range=year_bounds(year))
    if status:
        records = records.filter(status=status)
    if kind:
        records = records.filter(kind=kind)
    search = search.strip()
    if search:
        records = records.filter(Q(title__icontains=search) | Q(provider__icontains=search))
    return records.select_related("person", "decided_by").order_by("-completed_on", "-pk")


def cpd_record_get(*, user: AnyUser, pk: int) -> CpdRecord:
    """One record the caller may read, or 404 (never reveal that it exists)."""
    try:
        return cpd_record_list(user=user).select_related("person__unit").get(pk=pk)
    except CpdRecord.DoesNotExist as exc:
        raise Http404 from exc


def cpd_evidence_allowed(*, user: AnyUser, record: CpdRecord) -> bool:
    """The evidence goes to the person, their supervisor and managers over them."""
    return scope_for(user).can_read_person(record.person)


def cpd_approval_queue(*, user: AnyUser, search: str = "", kind: str = "") -> QuerySet[CpdRecord]:
    """Pending records the caller may decide, oldest submission first.

    Supervisors see their direct reports; managers their subtrees; never their own."""
    scope = scope_for(user)
    records = CpdRecord.objects.filter(status=CpdStatus.PENDING)
    if not scope.is_admin:
        deciders = Q(pk__in=[])
        if scope.is_supervisor and scope.person_id is not None:
            deciders |= Q(person__supervisor_id=scope.person_id)
        for path in scope.subtree_paths:
            deciders |= Q(person__unit__path__startswith=path)
        records = records.filter(deciders)
    if scope.person_id is not None:
        records = records.exclude(person_id=scope.person_id)
    if kind:
        records = records.filter(kind=kind)
    for word in search.split()[:4]:
        records = records.filter(
            Q(title__icontains=word)
            | Q(provider__icontains=word)
            | Q(person__given_name__istartswith=word)
            | Q(person__family_name__istartswith=word)
            | Q(person__staff_number=word.upper())
        )
    return records.select_related("person", "person__unit", "person__role").order_by(
        "submitted_at", "pk"
    )


# --- a person's year -------------------------------------------------------------------


@dataclass(frozen=True)
class Meter:
    """Progress towards one measure of a requirement (hours or credits)."""

    measure: str  # "hours" or "credits"
    required: Decimal
    approved: Decimal
    pending: Decimal

    @property
    def met(self) -> bool:
        return self.approved >= self.required

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.required - self.approved)

    @property
    def percent(self) -> int:
        """Approved as a share of the requirement (may pass 100)."""
        return round(100 * self.approved / self.required) if self.required else 100

    @property
    def approved_step(self) -> int:
        """Width class (multiples of 5, at most 100) of the approved part of the bar."""
        return min(100, 5 * round(self.percent / 5))

    @property
    def pending_step(self) -> int:
        """Width class of the pending part, drawn after the approved part."""
        if not self.required:
            return 0
        share = round(100 * self.pending / self.required)
        return max(0, min(100 - self.approved_step, 5 * round(share / 5)))


@dataclass
class CpdProgress:
    person: Person
    year: int
    requirement: CpdRequirement | None
    approved_hours: Decimal = ZERO
    approved_credits: Decimal = ZERO
    approved_count: int = 0
    pending_hours: Decimal = ZERO
    pending_credits: Decimal = ZERO
    pending_count: int = 0
    rejected_count: int = 0

    @property
    def meters(self) -> list[Meter]:
        req = self.requirement
        if req is None:
            return []
        meters = []
        if req.hours:
            meters.append(Meter("hours", req.hours, self.approved_hours, self.pending_hours))
        if req.credits:
            meters.append(
                Meter("credits", req.credits, self.approved_credits, self.pending_credits)
            )
        return meters

    @property
    def compliant(self) -> bool | None:
        """Whether every measure of the requirement is reached; None without a requirement."""
        meters = self.meters
        return all(m.met for m in meters) if meters else None


def cpd_requirement_for(*, person: Person, year: int) -> CpdRequirement | None:
    if person.role_id is None:
        return None
    return CpdRequirement.objects.filter(role_id=person.role_id, year=year).first()


def cpd_progress(*, user: AnyUser, person: Person, year: int) -> CpdProgress:
    """A person's approved and pending hours and credits for a year (two queries)."""
    if not scope_for(user).can_read_person(person):
        raise PermissionDenied(CpdErrorCode.NOT_ALLOWED)
    progress = CpdProgress(person, year, cpd_requirement_for(person=person, year=year))
    rows = (
        CpdRecord.objects.filter(person=person, completed_on__range=year_bounds(year))
        .values("status")
        .annotate(hours=Sum("hours"), credits=Sum("credits"), n=Count("id"))
        .order_by()
    )
    for row in rows:
        if row["status"] == CpdStatus.APPROVED:
            progress.approved_hours = _amount(row["hours"])
            progress.approved_credits = _amount(row["credits"])
            progress.approved_count = row["n"]
        elif row["status"] == CpdStatus.PENDING:
            progress.pending_hours = _amount(row["hours"])
            progress.pending_credits = _amount(row["credits"])
            progress.pending_count = row["n"]
        else:
            progress.rejected_count = row["n"]
    return progress


# --- unit compliance -------------------------------------------------------------------


@dataclass
class ComplianceCell:
    """Staff with a requirement in a group, how many reach it, what they did."""

    staff: int = 0
    compliant: int = 0
    hours: Decimal = ZERO
    credits: Decimal = ZERO
    # True when a partner viewer looks at a group of fewer people than the threshold.
    suppressed: bool = False

    def add(self, other: ComplianceCell) -> None:
        self.staff += other.staff
        self.compliant += other.compliant
        self.hours += other.hours
        self.credits += other.credits

    @property
    def share(self) -> float | None:
        return self.compliant / self.staff if self.staff else None

    @property
    def percent(self) -> int | None:
        share = self.share
        return None if share is None else round(100 * share)

    @property
    def percent_step(self) -> int:
        """Width class of a bar (multiples of 5)."""
        percent = self.percent or 0
        return 5 * round(percent / 5)

    @property
    def hours_per_person(self) -> Decimal | None:
        return (self.hours / self.staff).quantize(TENTH) if self.staff else None

    @property
    def heat(self) -> str:
        """The gap dashboard's colour scale: heat-0 all compliant … heat-10 none."""
        if self.suppressed:
            return "heat-suppressed"
        share = self.share
        if share is None:
            return "heat-none"
        return f"heat-{max(0, min(10, round((1 - share) * 10)))}"


@dataclass
class UnitCompliance:
    unit: OrgUnit
    year: int
    total: ComplianceCell
    # Staff posted at the unit itself rather than in one of its children.
    own: ComplianceCell
    children: list[tuple[OrgUnit, ComplianceCell]]
    by_role: list[tuple[Role, ComplianceCell]]
    by_sex: list[tuple[str, str, ComplianceCell]]
    suppressed: bool
    threshold: int

    @property
    def people_hidden(self) -> bool:
        return self.total.suppressed


def compliance_visible(*, user: AnyUser, unit: OrgUnit) -> bool:
    return scope_for(user).can_see_aggregates_of(unit)


def small_cells_hidden(*, user: AnyUser, unit: OrgUnit) -> bool:
    """Partner viewers (aggregates only) never see groups of fewer than the threshold."""
    scope = scope_for(user)
    if scope.is_admin:
        return False
    return not any(unit.path.startswith(path) for path in scope.subtree_paths)


def cpd_start_unit(*, user: AnyUser) -> OrgUnit | None:
    """Where the compliance dashboard opens: the root for admins, else the highest unit."""
    scope = scope_for(user)
    if scope.is_admin:
        return OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    paths = scope.subtree_paths + scope.aggregate_paths
    if not paths:
        return None
    return OrgUnit.objects.filter(path=min(paths, key=len)).first()


def _compliance_sql(*, role: bool, sex: bool) -> str:
    """Per person: approved hours and credits of the year (a GROUP BY over their records)
    and the child unit whose path starts theirs; then per child unit, role and sex: staff,
    compliant, hours, credits. Identifiers come from model metadata, never from input."""
    person = Person._meta.db_table
    unit = OrgUnit._meta.db_table
    requirement = CpdRequirement._meta.db_table
    record = CpdRecord._meta.db_table
    reached = (
        "(pp.req_hours IS NULL OR pp.hours >= pp.req_hours - %s) "
        "AND (pp.req_credits IS NULL OR pp.credits >= pp.req_credits - %s)"
    )
    extra = (" AND p.role_id = %s" if role else "") + (" AND p.sex = %s" if sex else "")
    return f"""
        SELECT pp.child_id, pp.role_id, pp.sex, COUNT(*) AS staff,
               SUM(CASE WHEN {reached} THEN 1 ELSE 0 END) AS compliant,
               SUM(pp.hours) AS hours, SUM(pp.credits) AS credits
        FROM (
            SELECT p.id, c.id AS child_id, p.role_id, p.sex,
                   r.hours AS req_hours, r.credits AS req_credits,
                   COALESCE(SUM(cr.hours), 0) AS hours, COALESCE(SUM(cr.credits), 0) AS credits
            FROM {person} p
            JOIN {unit} u ON u.id = p.unit_id
            JOIN {requirement} r ON r.role_id = p.role_id AND r.year = %s
            LEFT JOIN {record} cr ON cr.person_id = p.id AND cr.status = %s
                 AND cr.completed_on >= %s AND cr.completed_on <= %s
            LEFT JOIN {unit} c ON c.parent_id = %s AND u.path LIKE c.path || '%%'
            WHERE p.is_active AND u.path LIKE %s{extra}
            GROUP BY p.id, c.id, p.role_id, p.sex, r.hours, r.credits
        ) pp
        GROUP BY pp.child_id, pp.role_id, pp.sex
    """  # noqa: S608


def _compliance_rows(
    *, unit: OrgUnit, year: int, role: Role | None, sex: str
) -> list[tuple[int | None, int, str, ComplianceCell]]:
    start, end = year_bounds(year)
    params: list[Any] = [SLACK, SLACK, year, CpdStatus.APPROVED, start, end, unit.pk]
    params.append(f"{unit.path}%")
    if role is not None:
        params.append(role.pk)
    if sex:
        params.append(sex)
    with connection.cursor() as cursor:
        cursor.execute(_compliance_sql(role=role is not None, sex=bool(sex)), params)
        fetched = cursor.fetchall()
    return [
        (
            child_id,
            role_id,
            row_sex,
            ComplianceCell(int(staff), int(compliant or 0), _amount(hours), _amount(credits)),
        )
        for child_id, role_id, row_sex, staff, compliant, hours, credits in fetched
    ]


def _suppress(cells: list[ComplianceCell], threshold: int) -> None:
    """Hide groups under the threshold, as the gap dashboard does.

    No complementary suppression: any group can be read alone through the filters and the
    drill-down, so hiding a second group in one table would protect nothing."""
    for cell in cells:
        if 0 < cell.staff < threshold:
            cell.suppressed = True


def unit_compliance(
    *,
    user: AnyUser,
    unit: OrgUnit,
    year: int,
    role: Role | None = None,
    sex: str = "",
) -> UnitCompliance:
    """Compliance of a unit subtree for a year, per child unit, role and sex (three
    queries: children, the GROUP BY, role names)."""
    if not compliance_visible(user=user, unit=unit):
        raise PermissionDenied(CpdErrorCode.NOT_ALLOWED)
    hide = small_cells_hidden(user=user, unit=unit)
    threshold = int(settings.EDUCAP_SMALL_CELL_THRESHOLD)
    children = {c.pk: c for c in OrgUnit.objects.filter(parent=unit).select_related("level")}
    total, own = ComplianceCell(), ComplianceCell()
    per_child: dict[int, ComplianceCell] = {}
    per_role: dict[int, ComplianceCell] = {}
    per_sex: dict[str, ComplianceCell] = {}
    for child_id, role_id, row_sex, cell in _compliance_rows(
        unit=unit, year=year, role=role, sex=sex
    ):
        total.add(cell)
        if child_id is None:
            own.add(cell)
        else:
            per_child.setdefault(child_id, ComplianceCell()).add(cell)
        per_role.setdefault(role_id, ComplianceCell()).add(cell)
        per_sex.setdefault(row_sex, ComplianceCell()).add(cell)
    roles = Role.objects.in_bulk(list(per_role)) if per_role else {}
    child_rows = sorted(
        ((children[pk], cell) for pk, cell in per_child.items() if pk in children),
        key=lambda pair: (str(pair[0].name), pair[0].pk),
    )
    role_rows = sorted(
        ((roles[pk], cell) for pk, cell in per_role.items() if pk in roles),
        key=lambda pair: str(pair[0].name),
    )
    labels = dict(Sex.choices)
    sex_rows = [
        (str(value), str(labels.get(value, value)), per_sex[value])
        for value in (Sex.FEMALE, Sex.MALE)
        if value in per_sex
    ]
    if hide:
        if 0 < total.staff < threshold:
            total.suppressed = True
        _suppress([own, *(cell for _unit, cell in child_rows)], threshold)
        _suppress([cell for _role, cell in role_rows], threshold)
        _suppress([cell for _v, _l, cell in sex_rows], threshold)
    return UnitCompliance(
        unit=unit,
        year=year,
        total=total,
        own=own,
        children=child_rows,
        by_role=role_rows,
        by_sex=sex_rows,
        suppressed=hide,
        threshold=threshold,
    )


# --- staff of a unit, for managers -----------------------------------------------------


def _sum_subquery(year: int, status: str, column: str) -> Coalesce:
    records = (
        CpdRecord.objects.filter(
            person=OuterRef("pk"), status=status, completed_on__range=year_bounds(year)
        )
        .order_by()
        .values("person")
        .annotate(total=Sum(column))
        .values("total")
    )
    return Coalesce(
        Subquery(records, output_field=DecimalField(max_digits=9, decimal_places=1)),
        Value(ZERO),
        output_field=DecimalField(max_digits=9, decimal_places=1),
    )


def _reached_q() -> Q:
    hours = Q(req_hours__isnull=True) | Q(approved_hours__gte=F("req_hours") - Value(SLACK))
    credits = Q(req_credits__isnull=True) | Q(approved_credits__gte=F("req_credits") - Value(SLACK))
    return hours & credits


def cpd_staff_progress(
    *,
    user: AnyUser,
    unit: OrgUnit,
    year: int,
    role: Role | None = None,
    sex: str = "",
    search: str = "",
    state: str = "",
) -> QuerySet[Person]:
    """Active staff of a subtree whose role has a requirement in `year`, each annotated
    with the requirement and their approved and pending amounts. Managers only: partner
    viewers see aggregates, never a person. `state`: "compliant", "behind" or ""."""
    scope = scope_for(user)
    if not (scope.is_admin or scope.can_manage_unit(unit)):
        raise PermissionDenied(CpdErrorCode.NOT_ALLOWED)
    required = CpdRequirement.objects.filter(year=year, role_id=OuterRef("role_id"))
    people = (
        Person.objects.filter(scope.person_q())
        .filter(
            unit__path__startswith=unit.path,
            is_active=True,
            role_id__in=CpdRequirement.objects.filter(year=year).values("role_id"),
        )
        .annotate(
            req_hours=Subquery(required.values("hours")[:1]),
            req_credits=Subquery(required.values("credits")[:1]),
            approved_hours=_sum_subquery(year, CpdStatus.APPROVED, "hours"),
            approved_credits=_sum_subquery(year, CpdStatus.APPROVED, "credits"),
            pending_hours=_sum_subquery(year, CpdStatus.PENDING, "hours"),
        )
        .annotate(compliant=ExpressionWrapper(_reached_q(), output_field=BooleanField()))
    )
    if role is not None:
        people = people.filter(role=role)
    if sex:
        people = people.filter(sex=sex)
    for word in search.split()[:4]:
        people = people.filter(
            Q(given_name__istartswith=word)
            | Q(family_name__istartswith=word)
            | Q(name_local__istartswith=word)
            | Q(staff_number=word.upper())
        )
    if state == "compliant":
        people = people.filter(compliant=True)
    elif state == "behind":
        people = people.filter(compliant=False)
    return people.select_related("unit", "role").order_by("family_name", "given_name", "pk")


# --- requirements ----------------------------------------------------------------------


def cpd_requirement_list(
    *, year: int | None = None, role: Role | int | None = None
) -> QuerySet[CpdRequirement]:
    """Requirements are policy, not personal data: every signed-in user may read them."""
    requirements = CpdRequirement.objects.select_related("role")
    if year is not None:
        requirements = requirements.filter(year=year)
    if role is not None:
        requirements = requirements.filter(role=role)
    return requirements.order_by("-year", "role__name", "pk")


@dataclass
class RequirementRow:
    role: Role
    requirement: CpdRequirement | None = None
    previous: CpdRequirement | None = field(default=None)


def cpd_requirement_rows(*, year: int, search: str = "") -> list[RequirementRow]:
    """Every role with its requirement for `year` and the year before (two queries)."""
    roles = Role.objects.order_by("name")
    search = search.strip()
    if search:
        roles = roles.filter(Q(name__icontains=search) | Q(code__icontains=search))
    rows = {role.pk: RequirementRow(role) for role in roles}
    for requirement in CpdRequirement.objects.filter(
        year__in=(year, year - 1), role_id__in=list(rows)
    ):
        row = rows[requirement.role_id]
        if requirement.year == year:
            row.requirement = requirement
        else:
            row.previous = requirement
    return list(rows.values())

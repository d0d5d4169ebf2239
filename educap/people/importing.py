"""Staff import: check a whole file against the database, then apply it all or nothing.

`staff_import_plan` reads (a few set-based queries, whatever the file size) and reports every
problem with its row and column; `staff_import_apply` writes the plan in one transaction with
bulk statements and one audit event. Re-importing the same file finds nothing to change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from educap.accounts.scope import scope_for
from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.org.models import OrgUnit
from educap.people.io.staff import Problem, StaffRecord, sort_problems
from educap.people.models import Assignment, Person, Role
from educap.people.signals import people_changed

if TYPE_CHECKING:
    from educap.accounts.models import User

# Keeps every `IN (...)` list under SQLite's 999-variable limit.
CHUNK_SIZE = 900
PREVIEW_LIMIT = 200

Progress = Callable[[int], None]
T = TypeVar("T")

# Record attribute -> Person field written by the import.
PERSON_FIELD_FOR: dict[str, str] = {
    "given_name": "given_name",
    "family_name": "family_name",
    "name_local": "name_local",
    "sex": "sex",
    "national_id": "national_id",
    "birth_year": "birth_year",
    "hire_date": "hire_date",
    "email": "email",
    "phone": "phone",
    "active": "is_active",
}
_COLUMN_FOR = {name: attr for attr, name in PERSON_FIELD_FOR.items()}
_ALWAYS_PRESENT = frozenset({"given_name", "family_name", "sex"})
# Values for a new person when the file has no such column.
_NEW_PERSON_DEFAULTS: dict[str, Any] = {
    "name_local": "",
    "national_id": "",
    "birth_year": None,
    "hire_date": None,
    "email": "",
    "phone": "",
    "is_active": True,
}


class StaffImportErrorCode(StrEnum):
    DUPLICATE_STAFF_NUMBER = "duplicate_staff_number"
    UNKNOWN_UNIT = "unknown_unit"
    UNIT_CLOSED = "unit_closed"
    UNKNOWN_ROLE = "unknown_role"
    UNKNOWN_SUPERVISOR = "unknown_supervisor"
    SELF_SUPERVISION = "self_supervision"
    INVALID_EMAIL = "invalid_email"
    BIRTH_YEAR_OUT_OF_RANGE = "birth_year_out_of_range"
    UNIT_OUTSIDE_SCOPE = "unit_outside_scope"
    PERSON_OUTSIDE_SCOPE = "person_outside_scope"
    POST_START_CONFLICT = "post_start_conflict"
    PLAN_HAS_PROBLEMS = "plan_has_problems"
    WRONG_ACTOR = "wrong_actor"


@dataclass(frozen=True, slots=True)
class Post:
    """A post as the file spells it: codes, not database ids."""

    unit_code: str
    role_code: str
    supervisor_staff_number: str


@dataclass(slots=True)
class StaffChange:
    """What the import will do to one row's person (rows with nothing to do are not listed)."""

    row: int
    staff_number: str
    name: str
    created: bool
    fields: dict[str, tuple[Any, Any]]  # file column -> (value now, value after the import)
    post_before: Post | None
    post_after: Post | None  # set when a new post starts
    start_date: dt.date | None

    @property
    def post_changed(self) -> bool:
        return not self.created and self.post_after is not None


@dataclass(slots=True)
class _Existing:
    id: int
    values: dict[str, Any]  # Person fields written by the import
    unit_id: int | None
    role_id: int | None
    supervisor_id: int | None
    unit_path: str | None


@dataclass(slots=True)
class _OpenPost:
    id: int
    unit_id: int
    role_id: int
    supervisor_id: int | None
    start_date: dt.date
    end_date: dt.date | None
    post: Post


@dataclass(slots=True)
class _Work:
    """Everything apply needs for one row, resolved at plan time."""

    record: StaffRecord
    person_id: int | None
    values: dict[str, Any]  # target values of every Person field the import writes
    changed_fields: frozenset[str]
    unit_id: int
    role_id: int
    supervisor_staff_number: str
    new_post: bool
    start_date: dt.date
    end_ids: list[int] = field(default_factory=list)
    correct_id: int | None = None
    open_posts: list[_OpenPost] = field(default_factory=list)
    # What Person.unit/role/supervisor hold now (people already on record only).
    stored_mirror: tuple[int | None, int | None, int | None] = (None, None, None)


@dataclass
class StaffImportPlan:
    actor_id: int | None
    today: dt.date
    rows: int
    problems: list[Problem]
    changes: list[StaffChange]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    posts_changed: int = 0
    work: list[_Work] = field(default_factory=list, repr=False)
    person_ids: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def is_valid(self) -> bool:
        return not self.problems

    @property
    def preview(self) -> list[StaffChange]:
        return self.changes[:PREVIEW_LIMIT]

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "posts_changed": self.posts_changed,
        }


def _chunks(items: Sequence[T], size: int = CHUNK_SIZE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _birth_year_limits() -> tuple[int, int]:
    low, high = 0, 9999
    for validator in Person._meta.get_field("birth_year").validators:
        if isinstance(validator, MinValueValidator):
            low = int(validator.limit_value)  # type: ignore[arg-type]
        elif isinstance(validator, MaxValueValidator):
            high = int(validator.limit_value)  # type: ignore[arg-type]
    return low, high


def _record_values(record: StaffRecord, current: dict[str, Any] | None) -> dict[str, Any]:
    """Target Person values; a column the file lacks keeps what is stored (or the default)."""
    values: dict[str, Any] = {}
    for attr, name in PERSON_FIELD_FOR.items():
        if attr in _ALWAYS_PRESENT or attr in record.columns:
            values[name] = getattr(record, attr)
        elif current is not None:
            values[name] = current[name]
        else:
            values[name] = _NEW_PERSON_DEFAULTS[name]
    return values


def _mirror(
    posts: Iterable[tuple[int, int, int, int | None, dt.date, dt.date | None]], today: dt.date
) -> tuple[int | None, int | None, int | None]:
    """The rule of services._sync_current_post over (id, unit, role, supervisor, start, end)."""
    current = None
    for post in posts:
        post_id, start, end = post[0], post[4], post[5]
        is_current = start <= today and (end is None or end >= today)
        if is_current and (current is None or (start, post_id) > (current[4], current[0])):
            current = post
    if current is None:
        return (None, None, None)
    return (current[1], current[2], current[3])


def staff_import_plan(
    *,
    actor: User | None,
    records: Sequence[StaffRecord],
    file_problems: Iterable[Problem] = (),
    progress: Progress | None = None,
) -> StaffImportPlan:
    """Check every record against the database and work out what applying would change.

    `actor=None` is a system command with full rights. `file_problems` (from parsing) are
    carried into the plan so that a plan with any problem can never be applied.
    """
    today = timezone.localdate()
    problems: list[Problem] = list(file_problems)
    scope = scope_for(actor) if actor is not None else None

    def problem(record: StaffRecord, column: str, code: StaffImportErrorCode, msg: str) -> None:
        problems.append(Problem(record.row, column, code, msg))

    # 1. Checks that need no database.
    first_row: dict[str, int] = {}
    kept: list[StaffRecord] = []
    low_year, high_year = _birth_year_limits()
    for record in records:
        if record.staff_number in first_row:
            problem(
                record,
                "staff_number",
                StaffImportErrorCode.DUPLICATE_STAFF_NUMBER,
                _("Staff number %(staff_number)s already appears in row %(row)s.")
                % {"staff_number": record.staff_number, "row": first_row[record.staff_number]},
            )
            continue
        first_row[record.staff_number] = record.row
        kept.append(record)

    # 2. Load what the file refers to: a handful of queries per 900 rows.
    roles = dict(Role.objects.values_list("code", "id"))
    unit_codes = sorted({r.unit_code for r in kept})
    units: dict[str, OrgUnit] = {}
    for codes in _chunks(unit_codes):
        found = OrgUnit.objects.filter(code__in=codes).only("id", "code", "path", "closed_on")
        units.update((u.code, u) for u in found)
    numbers = sorted(set(first_row) | {r.supervisor_staff_number for r in kept} - {""})
    person_fields = list(PERSON_FIELD_FOR.values())
    existing: dict[str, _Existing] = {}
    for some_numbers in _chunks(numbers):
        rows = Person.objects.filter(staff_number__in=some_numbers).values_list(
            "id",
            "staff_number",
            "unit_id",
            "role_id",
            "supervisor_id",
            "unit__path",
            *person_fields,
        )
        for person_id, number, unit_id, role_id, supervisor_id, unit_path, *values in rows:
            existing[number] = _Existing(
                id=person_id,
                values=dict(zip(person_fields, values, strict=True)),
                unit_id=unit_id,
                role_id=role_id,
                supervisor_id=supervisor_id,
                unit_path=unit_path,
            )
    person_ids = {number: person.id for number, person in existing.items()}
    in_file_ids = [existing[n].id for n in first_row if n in existing]
    open_posts: dict[int, list[_OpenPost]] = {}
    for some_ids in _chunks(in_file_ids):
        # Primary posts that have not ended before today: the current one and any upcoming.
        posts = (
            Assignment.objects.filter(person_id__in=some_ids, is_primary=True)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
            .values_list(
                "id",
                "person_id",
                "unit_id",
                "role_id",
                "supervisor_id",
                "start_date",
                "end_date",
                "unit__code",
                "role__code",
                "supervisor__staff_number",
            )
        )
        for post_id, person_id, unit_id, role_id, supervisor_id, start, end, *codes in posts:
            if supervisor_id is not None:
                person_ids[codes[2]] = supervisor_id
            open_posts.setdefault(person_id, []).append(
                _OpenPost(
                    id=post_id,
                    unit_id=unit_id,
                    role_id=role_id,
                    supervisor_id=supervisor_id,
                    start_date=start,
                    end_date=end,
                    post=Post(codes[0], codes[1], codes[2] or ""),
                )
            )

    # 3. Check each row and work out its changes.
    plan = StaffImportPlan(
        actor_id=actor.pk if actor else None,
        today=today,
        rows=len(records),
        problems=problems,
        changes=[],
    )
    for index, record in enumerate(kept, start=1):
        if progress is not None and index % 1000 == 0:
            progress(1000)
        before = len(problems)
        current = existing.get(record.staff_number)
        # Addresses already stored are not re-checked: a re-import must not fail on them.
        stored_email = current.values["email"] if current is not None else ""
        if record.email and "email" in record.columns and record.email != stored_email:
            try:
                validate_email(record.email)
            except ValidationError:
                problem(
                    record,
                    "email",
                    StaffImportErrorCode.INVALID_EMAIL,
                    _("%(value)s is not a valid e-mail address.") % {"value": record.email},
                )
        if record.birth_year is not None and not low_year <= record.birth_year <= high_year:
            problem(
                record,
                "birth_year",
                StaffImportErrorCode.BIRTH_YEAR_OUT_OF_RANGE,
                _("The birth year must be between %(low)s and %(high)s.")
                % {"low": low_year, "high": high_year},
            )
        unit = units.get(record.unit_code)
        if unit is None:
            problem(
                record,
                "unit_code",
                StaffImportErrorCode.UNKNOWN_UNIT,
                _("No unit has the code %(code)s.") % {"code": record.unit_code},
            )
        elif scope is not None and not scope.can_manage_unit(unit):
            problem(
                record,
                "unit_code",
                StaffImportErrorCode.UNIT_OUTSIDE_SCOPE,
                _("You may not register staff in unit %(code)s.") % {"code": record.unit_code},
            )
        role_id = roles.get(record.role_code)
        if role_id is None:
            problem(
                record,
                "role_code",
                StaffImportErrorCode.UNKNOWN_ROLE,
                _("No role has the code %(code)s.") % {"code": record.role_code},
            )
        if (
            current is not None
            and scope is not None
            and not scope.is_admin
            and not (
                current.unit_path is not None
                and any(current.unit_path.startswith(p) for p in scope.subtree_paths)
            )
        ):
            problem(
                record,
                "staff_number",
                StaffImportErrorCode.PERSON_OUTSIDE_SCOPE,
                _("Staff number %(staff_number)s belongs to a person outside the units you manage.")
                % {"staff_number": record.staff_number},
            )
        person_posts = open_posts.get(current.id, []) if current is not None else []
        latest = max(person_posts, key=lambda p: (p.start_date, p.id), default=None)
        supervisor = record.supervisor_staff_number
        if "supervisor_staff_number" not in record.columns:
            supervisor = latest.post.supervisor_staff_number if latest is not None else ""
        if supervisor and supervisor == record.staff_number:
            problem(
                record,
                "supervisor_staff_number",
                StaffImportErrorCode.SELF_SUPERVISION,
                _("A person cannot supervise themselves."),
            )
        elif supervisor and supervisor not in first_row and supervisor not in person_ids:
            problem(
                record,
                "supervisor_staff_number",
                StaffImportErrorCode.UNKNOWN_SUPERVISOR,
                _(
                    "No staff member has the staff number %(staff_number)s, in this file or in"
                    " EduCap."
                )
                % {"staff_number": supervisor},
            )
        if len(problems) > before or unit is None or role_id is None:
            continue

        target = Post(record.unit_code, record.role_code, supervisor)
        start = record.start_date or today
        values = _record_values(record, current.values if current else None)
        work = _Work(
            record=record,
            person_id=current.id if current else None,
            values=values,
            changed_fields=frozenset(),
            unit_id=unit.pk,
            role_id=role_id,
            supervisor_staff_number=supervisor,
            new_post=current is None or latest is None or latest.post != target,
            start_date=start,
            open_posts=person_posts,
            stored_mirror=(current.unit_id, current.role_id, current.supervisor_id)
            if current
            else (None, None, None),
        )
        if current is not None:
            work.changed_fields = frozenset(
                name for name, value in values.items() if current.values[name] != value
            )
        if work.new_post:
            if unit.closed_on is not None and unit.closed_on <= start:
                problem(
                    record,
                    "unit_code",
                    StaffImportErrorCode.UNIT_CLOSED,
                    _("Unit %(code)s closed on %(date)s.")
                    % {"code": record.unit_code, "date": unit.closed_on.isoformat()},
                )
                continue
            conflict = _plan_post_change(work, person_posts, start)
            if conflict is not None:
                problem(
                    record,
                    "start_date",
                    StaffImportErrorCode.POST_START_CONFLICT,
                    _(
                        "The new post would start on %(start)s, but a post starting on"
                        " %(other)s is already recorded; give a later start_date."
                    )
                    % {"start": start.isoformat(), "other": conflict.isoformat()},
                )
                continue
        if current is None:
            plan.created += 1
        else:
            plan.updated += bool(work.changed_fields)
            plan.posts_changed += work.new_post
            plan.unchanged += not (work.changed_fields or work.new_post)
        if current is None or work.changed_fields or work.new_post:
            plan.work.append(work)
            plan.changes.append(
                StaffChange(
                    row=record.row,
                    staff_number=record.staff_number,
                    name=f"{record.given_name} {record.family_name}",
                    created=current is None,
                    fields={
                        _COLUMN_FOR[name]: (current.values[name], values[name])
                        for name in sorted(work.changed_fields)
                    }
                    if current
                    else {},
                    post_before=latest.post if latest else None,
                    post_after=target if work.new_post else None,
                    start_date=start if work.new_post else None,
                )
            )
    plan.problems = sort_problems(problems)
    plan.person_ids = person_ids
    if problems:
        plan.work = []
    return plan


def _supervisor_waves(new_work: list[_Work]) -> list[list[_Work]]:
    """Split new people into waves: nobody's supervisor is in their own or a later wave.

    People caught in a supervision loop go last; their supervisor is set at step 4.
    """
    remaining = {w.record.staff_number: w for w in new_work}
    waves: list[list[_Work]] = []
    while remaining:
        wave = [w for w in remaining.values() if w.supervisor_staff_number not in remaining]
        if not wave:
            waves.append(list(remaining.values()))
            break
        waves.append(wave)
        for work in wave:
            del remaining[work.record.staff_number]
    return waves


def _plan_post_change(work: _Work, posts: list[_OpenPost], start: dt.date) -> dt.date | None:
    """End the posts the new one replaces; return a conflicting start date if there is one."""
    same_day = [p for p in posts if p.start_date == start]
    later = [p for p in posts if p.start_date > start]
    if later:
        return min(p.start_date for p in later)
    if len(same_day) > 1:
        return start
    if same_day:
        # A post entered with the wrong unit, role or supervisor today: correct it in place.
        work.correct_id = same_day[0].id
    work.end_ids = [
        p.id for p in posts if p.start_date < start and (p.end_date is None or p.end_date >= start)
    ]
    return None


@transaction.atomic
def staff_import_apply(
    *, actor: User | None, plan: StaffImportPlan, progress: Progress | None = None
) -> dict[str, int]:
    """Write a problem-free plan: all of it or, on any error, none of it. Returns the counts."""
    if plan.problems:
        raise ValidationError(
            _("The import has %(count)s problems; nothing was imported.")
            % {"count": len(plan.problems)},
            code=StaffImportErrorCode.PLAN_HAS_PROBLEMS,
        )
    if plan.actor_id != (actor.pk if actor is not None else None):
        raise ValidationError(
            _("This import was prepared for another user."),
            code=StaffImportErrorCode.WRONG_ACTOR,
        )
    # No full_clean() per row: plan and parser ran the same checks set-based, and a per-row
    # unique check would cost one query per person.
    now = timezone.now()
    today = plan.today
    ids = dict(plan.person_ids)  # staff number -> Person id, filled in as people are created
    stored: dict[str, tuple[int | None, int | None, int | None]] = {}

    # 1. New people, in waves so that a supervisor new in this file gets an id before the
    # people they supervise are written (no second pass over a freshly created national list).
    for wave in _supervisor_waves([w for w in plan.work if w.person_id is None]):
        people: list[Person] = []
        for work in wave:
            mirror: tuple[int | None, int | None, int | None] = (
                (work.unit_id, work.role_id, ids.get(work.supervisor_staff_number))
                if work.start_date <= today
                else (None, None, None)
            )
            stored[work.record.staff_number] = mirror
            people.append(
                Person(
                    staff_number=work.record.staff_number,
                    unit_id=mirror[0],
                    role_id=mirror[1],
                    supervisor_id=mirror[2],
                    **work.values,
                )
            )
        for batch in _chunks(people, 2000):
            Person.objects.bulk_create(batch)
            if progress is not None:
                progress(len(batch))
        # SQLite and PostgreSQL hand back the new ids.
        ids.update((p.staff_number, p.pk) for p in people if p.pk is not None)
        missing = [p.staff_number for p in people if p.pk is None]
        for numbers in _chunks(missing):
            found = Person.objects.filter(staff_number__in=numbers)
            ids.update(found.values_list("staff_number", "id"))

    # 2. Changed fields of people already on record.
    changed = [w for w in plan.work if w.person_id is not None and w.changed_fields]
    if changed:
        names = sorted(set().union(*(w.changed_fields for w in changed)))
        updates = []
        for work in changed:
            person = Person(pk=work.person_id, updated_at=now)
            for name in names:
                setattr(person, name, work.values[name])
            updates.append(person)
        Person.objects.bulk_update(updates, [*names, "updated_at"], batch_size=1000)
        if progress is not None:
            progress(len(updates))

    # 3. Posts: end the replaced ones, correct same-day ones, start the new ones.
    posted = [w for w in plan.work if w.new_post]
    ends: list[Assignment] = []
    corrections: list[Assignment] = []
    new_posts: dict[str, Assignment] = {}
    for work in posted:
        number = work.record.staff_number
        supervisor_id = ids.get(work.supervisor_staff_number)
        end = work.start_date - dt.timedelta(days=1)
        ends.extend(Assignment(pk=pk, end_date=end) for pk in work.end_ids)
        if work.correct_id is not None:
            corrections.append(
                Assignment(
                    pk=work.correct_id,
                    unit_id=work.unit_id,
                    role_id=work.role_id,
                    supervisor_id=supervisor_id,
                )
            )
        else:
            new_posts[number] = Assignment(
                person_id=ids[number],
                unit_id=work.unit_id,
                role_id=work.role_id,
                supervisor_id=supervisor_id,
                start_date=work.start_date,
                is_primary=True,
            )
    if ends:
        Assignment.objects.bulk_update(ends, ["end_date"], batch_size=1000)
    if corrections:
        Assignment.objects.bulk_update(corrections, ["unit", "role", "supervisor"], batch_size=1000)
    for posts in _chunks(list(new_posts.values()), 5000):
        Assignment.objects.bulk_create(posts)
        if progress is not None:
            progress(len(posts))

    # 4. Person.unit/role/supervisor mirror the current primary post, by the rule of
    # services._sync_current_post, computed here for everyone at once.
    mirrors: list[Person] = []
    for work in posted:
        number = work.record.staff_number
        supervisor_id = ids.get(work.supervisor_staff_number)
        end = work.start_date - dt.timedelta(days=1)
        candidates = []
        for post in work.open_posts:
            candidate = (post.id, post.unit_id, post.role_id, post.supervisor_id)
            if post.id == work.correct_id:
                candidate = (post.id, work.unit_id, work.role_id, supervisor_id)
            end_date = end if post.id in work.end_ids else post.end_date
            candidates.append((*candidate, post.start_date, end_date))
        new = new_posts.get(number)
        if new is not None:
            # Ties on start date go to the newest row; a new row outranks every earlier one.
            new_id = new.pk or 2**62
            candidates.append(
                (new_id, new.unit_id, new.role_id, new.supervisor_id, new.start_date, None)
            )
        mirror = _mirror(candidates, today)
        if mirror != stored.get(number, work.stored_mirror):
            mirrors.append(
                Person(
                    pk=ids[number],
                    unit_id=mirror[0],
                    role_id=mirror[1],
                    supervisor_id=mirror[2],
                    updated_at=now,
                )
            )
    if mirrors:
        Person.objects.bulk_update(
            mirrors, ["unit", "role", "supervisor", "updated_at"], batch_size=1000
        )

    # 5. Tell the aggregates who moved in or out of which unit (their old and new units).
    touched = {ids[n] for n in stored} | {w.person_id for w in changed if w.person_id}
    touched |= {m.pk for m in mirrors}
    former = {w.stored_mirror[0] for w in posted if w.person_id is not None}
    if touched:
        people_changed.send(
            sender=Person,
            person_ids=sorted(touched),
            unit_ids=sorted(u for u in former if u is not None),
        )

    counts = plan.counts()
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        object_type="people.person",
        object_repr=_("Staff import"),
        after=counts,
    )
    return counts

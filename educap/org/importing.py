"""Import org units: validate every record against the database, preview, apply all or nothing.

`orgunit_import_plan` reads the whole hierarchy with two queries and works out, in
memory, what an import would do and everything wrong with it: it writes nothing.
`orgunit_import_apply` writes a problem-free plan in one transaction with a handful of
set-based statements whatever the number of units (see `_write`), and one audit event.

Records find their existing unit by code (CSV) or external id (DHIS2), falling back to
the other. Units the file does not mention are left alone; values the file leaves
empty (translated names, external id, dates) keep what the unit has.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import CharField, Field, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from educap.accounts.scope import scope_for
from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.core.querysets import plain_queryset
from educap.org.io.dhis2 import DHIS2_COLUMNS, parse_dhis2_orgunits
from educap.org.io.records import NAME_LANGUAGES, OrgImportErrorCode, Problem, UnitRecord
from educap.org.io.units_csv import parse_units_csv
from educap.org.models import OrgLevel, OrgUnit, code_validator
from educap.org.signals import units_changed

if TYPE_CHECKING:
    from educap.accounts.models import User

__all__ = [
    "ChangeKind",
    "ExistingUnits",
    "FieldChange",
    "ImportFormat",
    "ImportPlan",
    "MatchOn",
    "OrgImportErrorCode",
    "UnitChange",
    "load_existing_units",
    "orgunit_import_allowed",
    "orgunit_import_apply",
    "orgunit_import_plan",
    "orgunit_import_plan_file",
]

_CODE_MAX, _NAME_MAX, _EXTERNAL_ID_MAX = 60, 200, 60


class ImportFormat(StrEnum):
    CSV = "csv"
    DHIS2 = "dhis2"


class MatchOn(StrEnum):
    """Which identifier finds the existing unit a record describes (the other is a fallback)."""

    CODE = "code"  # CSV: the ministry's own codes
    EXTERNAL_ID = "external_id"  # DHIS2: the uid is stable, codes may change


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    MOVED = "moved"  # new parent (other fields may change too)
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class UnitChange:
    row: int
    code: str
    name: str
    kind: ChangeKind
    fields: tuple[FieldChange, ...] = ()


class ExistingUnit(NamedTuple):
    pk: int
    code: str
    name_en: str | None
    name_ar: str | None
    name_fr: str | None
    name_lo: str | None
    level_id: int
    parent_id: int | None
    path: str
    depth: int
    external_id: str | None
    opened_on: dt.date | None
    closed_on: dt.date | None


class LevelInfo(NamedTuple):
    pk: int
    code: str
    depth: int


_UNIT_COLUMNS = ExistingUnit._fields
# The unit fields a record sets directly, and how a preview names them.
_VALUE_FIELDS = (
    "code",
    "name_en",
    "name_ar",
    "name_fr",
    "name_lo",
    "external_id",
    "opened_on",
    "closed_on",
)
_FIELD_LABELS = ("code", "name", *_VALUE_FIELDS[2:])


@dataclass
class ExistingUnits:
    """The whole hierarchy as dictionaries: what a plan is checked against."""

    units: dict[int, ExistingUnit]
    levels: dict[int, LevelInfo]
    by_code: dict[str, int] = field(init=False)
    by_external_id: dict[str, int] = field(init=False)
    level_by_code: dict[str, LevelInfo] = field(init=False)
    level_by_depth: dict[int, LevelInfo] = field(init=False)

    def __post_init__(self) -> None:
        self.by_code = {u.code: pk for pk, u in self.units.items()}
        self.by_external_id = {u.external_id: pk for pk, u in self.units.items() if u.external_id}
        self.level_by_code = {level.code: level for level in self.levels.values()}
        self.level_by_depth = {level.depth: level for level in self.levels.values()}

    def same_as(self, other: ExistingUnits) -> bool:
        """True when both snapshots hold exactly the same units and levels."""
        return self.levels == other.levels and self.units == other.units


def load_existing_units() -> ExistingUnits:
    """Every unit and level, in two queries."""
    levels = {
        row[0]: LevelInfo(*row) for row in OrgLevel.objects.values_list("pk", "code", "depth")
    }
    # A plain QuerySet: modeltranslation's manager post-processes every row, three times slower.
    rows = plain_queryset(OrgUnit).order_by().values_list(*_UNIT_COLUMNS)
    units = {row[0]: ExistingUnit(*row) for row in rows.iterator(chunk_size=5000)}
    return ExistingUnits(units=units, levels=levels)


@dataclass
class _Target:
    """What a valid record resolves to; only used to apply the plan."""

    record: UnitRecord
    node: int  # the pk of an existing unit, or a negative number for a new one
    pk: int | None
    parent: int | None  # node of the final parent
    level_id: int
    values: dict[str, Any]
    final_depth: int
    fields_changed: bool = False
    moved: bool = False


@dataclass
class ImportPlan:
    """What an import would do, and everything that stops it."""

    records: list[UnitRecord]
    problems: list[Problem]
    changes: list[UnitChange]
    match_on: MatchOn = MatchOn.CODE
    columns: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    targets: list[_Target] = field(default_factory=list, repr=False)
    existing: ExistingUnits | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def counts(self) -> dict[str, int]:
        counts = {kind.value: 0 for kind in ChangeKind}
        for change in self.changes:
            counts[change.kind] += 1
        return counts

    def changed(self) -> Iterator[UnitChange]:
        """Changes other than "unchanged", in file order."""
        return (c for c in self.changes if c.kind != ChangeKind.UNCHANGED)


def orgunit_import_allowed(*, user: User | None) -> bool:
    """System admins, and officers whose grants cover every root of the hierarchy."""
    if user is None:
        return True  # management commands run as the system
    scope = scope_for(user)
    if scope.is_admin:
        return True
    if not scope.subtree_paths:
        return False
    roots = list(OrgUnit.objects.filter(parent__isnull=True).values_list("path", flat=True))
    return bool(roots) and all(
        any(root.startswith(path) for path in scope.subtree_paths) for root in roots
    )


class _Planner:
    """One planning run; split into steps so each reads on its own."""

    def __init__(
        self,
        records: Sequence[UnitRecord],
        existing: ExistingUnits,
        match_on: MatchOn,
        columns: Mapping[str, str],
    ) -> None:
        self.records = list(records)
        self.existing = existing
        self.match_on = match_on
        self.columns = columns
        self.problems: list[Problem] = []
        self.bad: set[int] = set()  # indexes of records whose problems stop further checks
        self.nodes: list[int] = []
        self.pks: list[int | None] = []
        self.parents: list[int | None] = []
        self.final_parent: dict[int, int | None] = {}
        self.final_depth: dict[int, int] = {}
        self.final_level: dict[int, int] = {}
        self.code_of_node: dict[int, str] = {}

    def problem(self, index: int, column: str, code: OrgImportErrorCode, message: str) -> None:
        """Report a problem with record `index`, which then takes no further part."""
        record = self.records[index]
        self.problems.append(
            Problem(
                row=record.row,
                column=self.columns.get(column, column),
                code=code,
                message=message,
            )
        )
        self.bad.add(index)

    # Step 1: values that are wrong whatever the database holds.
    def check_values(self) -> None:
        first_of_code: dict[str, int] = {}
        first_of_external_id: dict[str, int] = {}
        for i, r in enumerate(self.records):
            if not r.code:
                self.problem(i, "code", OrgImportErrorCode.REQUIRED, _("The unit has no code."))
            elif len(r.code) > _CODE_MAX:
                self.problem(
                    i,
                    "code",
                    OrgImportErrorCode.TOO_LONG,
                    _("The code %(code)s is longer than %(max)s characters.")
                    % {"code": r.code[:_CODE_MAX] + "…", "max": _CODE_MAX},
                )
            elif not _code_is_valid(r.code):
                self.problem(
                    i,
                    "code",
                    OrgImportErrorCode.INVALID_CODE,
                    _(
                        "The code %(code)s may only hold letters, digits, dot, dash or "
                        "underscore, starting with a letter or digit."
                    )
                    % {"code": r.code},
                )
            elif r.code in first_of_code:
                self.problem(
                    i,
                    "code",
                    OrgImportErrorCode.DUPLICATE_CODE,
                    _("The code %(code)s is already used on row %(first_row)s.")
                    % {"code": r.code, "first_row": self.records[first_of_code[r.code]].row},
                )
            else:
                first_of_code[r.code] = i
            if not r.name:
                self.problem(i, "name", OrgImportErrorCode.REQUIRED, _("The unit has no name."))
            for column, value in (
                ("name", r.name),
                *((f"name_{lang}", r.names.get(lang, "")) for lang in NAME_LANGUAGES),
            ):
                if len(value) > _NAME_MAX:
                    self.problem(
                        i,
                        column,
                        OrgImportErrorCode.TOO_LONG,
                        _("The name is longer than %(max)s characters.") % {"max": _NAME_MAX},
                    )
            if len(r.external_id) > _EXTERNAL_ID_MAX:
                self.problem(
                    i,
                    "external_id",
                    OrgImportErrorCode.TOO_LONG,
                    _("The external id is longer than %(max)s characters.")
                    % {"max": _EXTERNAL_ID_MAX},
                )
            elif r.external_id in first_of_external_id:
                self.problem(
                    i,
                    "external_id",
                    OrgImportErrorCode.DUPLICATE_EXTERNAL_ID,
                    _("The external id %(external_id)s is already used on row %(first_row)s.")
                    % {
                        "external_id": r.external_id,
                        "first_row": self.records[first_of_external_id[r.external_id]].row,
                    },
                )
            elif r.external_id:
                first_of_external_id[r.external_id] = i

    # Step 2: which existing unit, if any, each record describes.
    def match(self) -> None:
        ex = self.existing
        claimed: dict[int, int] = {}
        for i, r in enumerate(self.records):
            by_code = ex.by_code.get(r.code)
            by_external_id = ex.by_external_id.get(r.external_id) if r.external_id else None
            pk: int | None
            if by_code is not None and by_external_id is not None and by_code != by_external_id:
                if self.match_on == MatchOn.EXTERNAL_ID:
                    self.problem(
                        i,
                        "code",
                        OrgImportErrorCode.CODE_CLASH,
                        _(
                            "The external id %(external_id)s is unit %(unit)s, which cannot "
                            "take the code %(code)s: another unit already has it."
                        )
                        % {
                            "external_id": r.external_id,
                            "unit": ex.units[by_external_id].code,
                            "code": r.code,
                        },
                    )
                else:
                    self.problem(
                        i,
                        "external_id",
                        OrgImportErrorCode.EXTERNAL_ID_CLASH,
                        _("The external id %(external_id)s already belongs to unit %(other)s.")
                        % {"external_id": r.external_id, "other": ex.units[by_external_id].code},
                    )
                pk = None
            elif self.match_on == MatchOn.EXTERNAL_ID:
                pk = by_external_id if by_external_id is not None else by_code
            else:
                pk = by_code if by_code is not None else by_external_id
            if pk is not None and pk in claimed:
                self.problem(
                    i,
                    "code",
                    OrgImportErrorCode.DUPLICATE_TARGET,
                    _("Rows %(first_row)s and %(row)s both describe the existing unit %(unit)s.")
                    % {
                        "first_row": self.records[claimed[pk]].row,
                        "row": r.row,
                        "unit": ex.units[pk].code,
                    },
                )
                pk = None
            elif pk is not None:
                claimed[pk] = i
            self.pks.append(pk)
            self.nodes.append(pk if pk is not None else -(i + 1))
            self.code_of_node[self.nodes[-1]] = r.code

    # Step 3: every record's final parent, and the final shape of the whole tree.
    def resolve_parents(self) -> None:
        ex = self.existing
        node_of_code: dict[str, int] = {}
        node_of_external_id: dict[str, int] = {}
        for i, r in enumerate(self.records):
            node_of_code.setdefault(r.code, self.nodes[i])
            if r.external_id:
                node_of_external_id.setdefault(r.external_id, self.nodes[i])
        self.final_parent = {pk: u.parent_id for pk, u in ex.units.items()}
        for i, r in enumerate(self.records):
            parent: int | None = None
            if r.parent_code:
                parent = node_of_code.get(r.parent_code, ex.by_code.get(r.parent_code))
                if parent is None:
                    self.problem(
                        i,
                        "parent_code",
                        OrgImportErrorCode.UNKNOWN_PARENT,
                        _("No unit in the file or in EduCap has the code %(code)s.")
                        % {"code": r.parent_code},
                    )
            elif r.parent_external_id:
                parent = node_of_external_id.get(
                    r.parent_external_id, ex.by_external_id.get(r.parent_external_id)
                )
                if parent is None:
                    self.problem(
                        i,
                        "parent_external_id",
                        OrgImportErrorCode.DANGLING_PARENT,
                        _(
                            "The parent %(external_id)s is neither in the file nor the "
                            "external id of a unit in EduCap."
                        )
                        % {"external_id": r.parent_external_id},
                    )
            self.parents.append(parent)
            node = self.nodes[i]
            if i in self.bad:
                # Keep an existing unit where it is so the rest of the tree stays checkable.
                self.final_parent.setdefault(node, None)
            else:
                self.final_parent[node] = parent
        self._compute_depths()

    def _compute_depths(self) -> None:
        """Depth of every record's unit in the final tree; units on a loop get none."""
        depth = self.final_depth
        stuck: set[int] = set()  # on a loop, or under one
        in_cycle: set[int] = set()
        for start in self.nodes:
            walk: list[int] = []
            position: dict[int, int] = {}
            node: int | None = start
            while node is not None and node not in depth and node not in stuck:
                if node in position:
                    in_cycle.update(walk[position[node] :])
                    break
                position[node] = len(walk)
                walk.append(node)
                node = self.final_parent.get(node)
            else:
                if node is None or node in depth:
                    base = -1 if node is None else depth[node]
                    for offset, seen in enumerate(reversed(walk), start=1):
                        depth[seen] = base + offset
                    continue
            stuck.update(walk)
        for i, node in enumerate(self.nodes):
            if node in in_cycle and i not in self.bad:
                self.problem(
                    i,
                    "parent_code",
                    OrgImportErrorCode.CYCLE,
                    _("The unit %(code)s would end up under itself.")
                    % {"code": self.records[i].code},
                )

    # Step 4: levels, given by code, by DHIS2 level number or by depth in the tree.
    def resolve_levels(self) -> None:
        ex = self.existing
        self.final_level = {pk: u.level_id for pk, u in ex.units.items()}
        for i, r in enumerate(self.records):
            node = self.nodes[i]
            level: LevelInfo | None = None
            if r.level_code:
                level = ex.level_by_code.get(r.level_code)
                if level is None:
                    self.problem(
                        i,
                        "level",
                        OrgImportErrorCode.UNKNOWN_LEVEL,
                        _("No organisational level has the code %(level)s.")
                        % {"level": r.level_code},
                    )
            elif r.level_depth is not None:
                level = ex.level_by_depth.get(r.level_depth)
                if level is None:
                    self.problem(
                        i,
                        "level",
                        OrgImportErrorCode.UNKNOWN_LEVEL,
                        _("No organisational level is set up for level %(level)s (1 is the top).")
                        % {"level": r.level_depth + 1},
                    )
            elif node in self.final_depth:
                level = ex.level_by_depth.get(self.final_depth[node])
                if level is None:
                    self.problem(
                        i,
                        "level",
                        OrgImportErrorCode.UNKNOWN_LEVEL,
                        _(
                            "The file gives no level and no organisational level is set up "
                            "%(depth)s steps below the top."
                        )
                        % {"depth": self.final_depth[node]},
                    )
            else:
                self.bad.add(i)  # on a loop: already reported
            if level is None:
                self.bad.add(i)
            else:
                self.final_level[node] = level.pk
        self._check_level_order()

    def _check_level_order(self) -> None:
        levels = self.existing.levels
        record_index = {node: i for i, node in enumerate(self.nodes)}
        level_changed: set[int] = set()
        for i, node in enumerate(self.nodes):
            if i in self.bad:
                continue
            pk = self.pks[i]
            if pk is not None and self.existing.units[pk].level_id != self.final_level[node]:
                level_changed.add(node)
            parent = self.parents[i]
            if parent is None or record_index.get(parent, -1) in self.bad:
                continue
            mine, theirs = levels[self.final_level[node]], levels[self.final_level[parent]]
            if mine.depth <= theirs.depth:
                self.problem(
                    i,
                    "level",
                    OrgImportErrorCode.LEVEL_ORDER,
                    _(
                        "The unit %(code)s (%(level)s) must be at a lower level than its "
                        "parent %(parent)s (%(parent_level)s)."
                    )
                    % {
                        "code": self.records[i].code,
                        "level": mine.code,
                        "parent": self.code_of(parent),
                        "parent_level": theirs.code,
                    },
                )
        if not level_changed:
            return
        # A unit whose level changes must stay above the children the file leaves alone.
        for pk, parent_pk in self.final_parent.items():
            if pk < 0 or pk in record_index or parent_pk not in level_changed:
                continue
            i = record_index[parent_pk]
            child, mine = levels[self.final_level[pk]], levels[self.final_level[parent_pk]]
            if child.depth <= mine.depth:
                self.problem(
                    i,
                    "level",
                    OrgImportErrorCode.LEVEL_ORDER,
                    _(
                        "The unit %(code)s cannot move to level %(level)s: its unit "
                        "%(child)s is at level %(child_level)s."
                    )
                    % {
                        "code": self.records[i].code,
                        "level": mine.code,
                        "child": self.code_of(pk),
                        "child_level": child.code,
                    },
                )

    def code_of(self, node: int) -> str:
        if node in self.code_of_node:
            return self.code_of_node[node]
        return self.existing.units[node].code

    # Step 5: what changes, field by field.
    def changes(self) -> tuple[list[UnitChange], list[_Target]]:
        levels = self.existing.levels
        changes: list[UnitChange] = []
        targets: list[_Target] = []
        empty = ExistingUnit(0, "", None, None, None, None, 0, None, "", 0, None, None, None)
        for i, r in enumerate(self.records):
            node, pk, parent = self.nodes[i], self.pks[i], self.parents[i]
            if i in self.bad or node not in self.final_depth:
                continue
            current = self.existing.units[pk] if pk is not None else empty
            names = r.names
            # Same order as _VALUE_FIELDS; what the file leaves out keeps its current value.
            after = (
                r.code,
                r.name,
                names.get("ar", current.name_ar),
                names.get("fr", current.name_fr),
                names.get("lo", current.name_lo),
                r.external_id or current.external_id,
                r.opened_on or current.opened_on,
                r.closed_on or current.closed_on,
            )
            opened_on, closed_on = after[6], after[7]
            if opened_on and closed_on and closed_on < opened_on:
                self.problem(
                    i,
                    "closed_on",
                    OrgImportErrorCode.DATE_ORDER,
                    _("The unit would close (%(closed_on)s) before it opens (%(opened_on)s).")
                    % {"closed_on": closed_on, "opened_on": opened_on},
                )
                continue
            level_id = self.final_level[node]
            fields: list[FieldChange] = []
            fields_changed = moved = False
            if pk is None:
                kind = ChangeKind.CREATED
                fields.append(FieldChange("level", "", levels[level_id].code))
                if parent is not None:
                    fields.append(FieldChange("parent", "", self.code_of(parent)))
                fields.extend(FieldChange(f"name_{lang}", "", v) for lang, v in names.items())
                if after[5]:
                    fields.append(FieldChange("external_id", "", after[5]))
            else:
                before = (
                    current.code,
                    current.name_en,
                    current.name_ar,
                    current.name_fr,
                    current.name_lo,
                    current.external_id,
                    current.opened_on,
                    current.closed_on,
                )
                if before != after:
                    fields.extend(
                        FieldChange(_FIELD_LABELS[n], _show(b), _show(a))
                        for n, (b, a) in enumerate(zip(before, after, strict=True))
                        if b != a
                    )
                if current.level_id != level_id:
                    fields.append(
                        FieldChange("level", levels[current.level_id].code, levels[level_id].code)
                    )
                fields_changed = bool(fields)
                moved = current.parent_id != parent
                if moved:
                    fields.append(
                        FieldChange(
                            "parent",
                            self.code_of(current.parent_id) if current.parent_id else "",
                            self.code_of(parent) if parent is not None else "",
                        )
                    )
                kind = (
                    ChangeKind.MOVED
                    if moved
                    else ChangeKind.UPDATED
                    if fields
                    else ChangeKind.UNCHANGED
                )
            changes.append(UnitChange(r.row, r.code, r.name, kind, tuple(fields)))
            if kind != ChangeKind.UNCHANGED:
                targets.append(
                    _Target(
                        record=r,
                        node=node,
                        pk=pk,
                        parent=parent,
                        level_id=level_id,
                        values=dict(zip(_VALUE_FIELDS, after, strict=True)),
                        final_depth=self.final_depth[node],
                        fields_changed=fields_changed,
                        moved=moved,
                    )
                )
        return changes, targets


_CODE_RE = cast("re.Pattern[str]", code_validator.regex)


def _code_is_valid(code: str) -> bool:
    # `fullmatch`, because the validator's `$` would let one trailing newline through.
    return _CODE_RE.fullmatch(code) is not None


def _show(value: Any) -> str:
    return "" if value is None else str(value)


def orgunit_import_plan(
    *,
    records: Sequence[UnitRecord],
    problems: Sequence[Problem] = (),
    existing: ExistingUnits | None = None,
    match_on: MatchOn = MatchOn.CODE,
    columns: Mapping[str, str] | None = None,
    source: str = "",
) -> ImportPlan:
    """Check `records` (and carry the parser's `problems`) against the database.

    Writes nothing. `existing` defaults to a fresh `load_existing_units()`; `columns`
    renames record fields in problem reports (e.g. `external_id` -> `id` for DHIS2).
    """
    existing = existing if existing is not None else load_existing_units()
    planner = _Planner(records, existing, match_on, columns or {})
    if not records and not problems:
        planner.problems.append(
            Problem(0, "", OrgImportErrorCode.FILE_EMPTY, _("The file holds no units."))
        )
    planner.check_values()
    planner.match()
    planner.resolve_parents()
    planner.resolve_levels()
    changes, targets = planner.changes()
    all_problems = sorted([*problems, *planner.problems], key=lambda p: p.row)
    return ImportPlan(
        records=list(records),
        problems=all_problems,
        changes=changes,
        match_on=match_on,
        columns=dict(columns or {}),
        source=source,
        targets=targets,
        existing=existing,
    )


def orgunit_import_plan_file(
    *, data: bytes, file_format: ImportFormat | str, source: str = ""
) -> ImportPlan:
    """Parse a whole file in one of the supported formats and plan its import.

    The caller enforces the size limit before reading the file.
    """
    if ImportFormat(file_format) == ImportFormat.DHIS2:
        records, problems = parse_dhis2_orgunits(data)
        return orgunit_import_plan(
            records=records,
            problems=problems,
            match_on=MatchOn.EXTERNAL_ID,
            columns=DHIS2_COLUMNS,
            source=source,
        )
    records, problems = parse_units_csv(data)
    return orgunit_import_plan(
        records=records, problems=problems, match_on=MatchOn.CODE, source=source
    )


def orgunit_import_apply(*, actor: User | None, plan: ImportPlan) -> dict[str, int]:
    """Apply a plan in one transaction, or nothing at all; returns the counts.

    Inside the transaction the hierarchy is read again: if it changed since the plan
    was made, the plan is worked out again, and if that gives other counts than the
    caller saw (someone changed the hierarchy meanwhile) nothing is written.
    """
    if not orgunit_import_allowed(user=actor):
        raise PermissionDenied(OrgImportErrorCode.NOT_ALLOWED)
    if plan.problems:
        raise ValidationError(
            _("The import has %(count)s problems; nothing was imported.")
            % {"count": len(plan.problems)},
            code=OrgImportErrorCode.PLAN_HAS_PROBLEMS,
        )
    with transaction.atomic():
        fresh = plan
        existing = load_existing_units()
        if plan.existing is None or not existing.same_as(plan.existing):
            fresh = orgunit_import_plan(
                records=plan.records,
                existing=existing,
                match_on=plan.match_on,
                columns=plan.columns,
                source=plan.source,
            )
            if fresh.problems or fresh.counts != plan.counts:
                raise ValidationError(
                    _("The units changed since this import was checked; check it again."),
                    code=OrgImportErrorCode.PLAN_STALE,
                )
        _write(fresh)
        moved = [t.pk for t in fresh.targets if t.moved and t.pk]
        if moved:
            assert fresh.existing is not None
            parents = {fresh.existing.units[pk].parent_id for pk in moved}
            units_changed.send(
                sender=OrgUnit, unit_ids=sorted({*moved, *(p for p in parents if p is not None)})
            )
        counts = fresh.counts
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT,
            object_type=OrgUnit._meta.label_lower,
            object_repr=(fresh.source or _("org unit import"))[:200],
            after={"source": fresh.source, "records": len(fresh.records), **counts},
        )
    return counts


# Columns written for every new or changed unit, in this order ("name" = default name).
_WRITE_FIELDS = (
    "code",
    "name",
    *_VALUE_FIELDS[1:],
    "level",
    "updated_at",
)
_INSERT_FIELDS = (*_WRITE_FIELDS, "parent", "path", "depth", "created_at")


def _column(field_name: str) -> str:
    model_field = OrgUnit._meta.get_field(field_name)
    assert isinstance(model_field, Field)
    assert model_field.column
    return connection.ops.quote_name(model_field.column)


def _row(target: _Target, now: Any) -> list[Any]:
    """Database values for `_WRITE_FIELDS`."""
    v = target.values
    adapt_date = connection.ops.adapt_datefield_value
    return [
        v["code"],
        v["name_en"],
        v["name_en"],
        v["name_ar"],
        v["name_fr"],
        v["name_lo"],
        v["external_id"],
        adapt_date(v["opened_on"]),
        adapt_date(v["closed_on"]),
        target.level_id,
        now,
    ]


def _write(plan: ImportPlan) -> None:
    """Write a checked plan with a few set-based statements.

    1. changed fields of existing units: one `executemany` UPDATE;
    2. new units, shallowest first so parents exist before children: one `executemany`
       INSERT per depth, then their keys read back by code;
    3. moved units get their new parent, and every unit whose path changes (the moved
       units' whole subtrees) its new path and depth: two `executemany` UPDATEs, with
       the paths worked out in memory from the final tree;
    4. new units' paths: one UPDATE per depth from the parent's (now final) path.

    Plain SQL rather than `bulk_create`/`bulk_update`: the ORM's per-object work (and
    modeltranslation's constructor) made a 100,000-unit import ten times slower.
    """
    assert plan.existing is not None
    units = plan.existing.units
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = connection.ops.quote_name(OrgUnit._meta.db_table)
    id_column = _column("id")
    pk_of: dict[int, int] = {}  # new units' nodes; existing units' nodes are their keys

    def pk_for(node: int | None) -> int | None:
        return None if node is None else node if node > 0 else pk_of[node]

    new_by_depth: dict[int, list[_Target]] = defaultdict(list)
    for t in plan.targets:
        if t.pk is None:
            new_by_depth[t.final_depth].append(t)

    with connection.cursor() as cursor:
        changed = [[*_row(t, now), t.pk] for t in plan.targets if t.pk and t.fields_changed]
        if changed:
            assignments = ", ".join(f"{_column(f)} = %s" for f in _WRITE_FIELDS)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {id_column} = %s",  # noqa: S608
                changed,
            )

        columns = ", ".join(_column(f) for f in _INSERT_FIELDS)
        placeholders = ", ".join(["%s"] * len(_INSERT_FIELDS))
        insert = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        for depth in sorted(new_by_depth):
            group = new_by_depth[depth]
            cursor.executemany(
                insert, [[*_row(t, now), pk_for(t.parent), "", depth, now] for t in group]
            )
            # New rows are the only ones without a path yet; their keys come back by code.
            node_of_code = {t.record.code: t.node for t in group}
            fresh = plain_queryset(OrgUnit).filter(path="").values_list("code", "pk")
            for code, pk in fresh:
                if code in node_of_code:
                    pk_of[node_of_code[code]] = pk

        moved = {t.node: t for t in plan.targets if t.moved}
        if moved:
            cursor.executemany(
                f"UPDATE {table} SET {_column('parent')} = %s, {_column('updated_at')} = %s "  # noqa: S608
                f"WHERE {id_column} = %s",
                [[pk_for(t.parent), now, t.pk] for t in moved.values()],
            )
            new_parent = {t.node: t.parent for t in plan.targets if t.pk is None}
            paths = _moved_subtree_paths(units, moved, new_parent, pk_for)
            cursor.executemany(
                f"UPDATE {table} SET {_column('path')} = %s, {_column('depth')} = %s "  # noqa: S608
                f"WHERE {id_column} = %s",
                [[path, path.count("/") - 1, pk] for pk, path in paths.items()],
            )

    parent_path = Subquery(
        plain_queryset(OrgUnit).filter(pk=OuterRef("parent_id")).values("path")[:1]
    )
    for depth in sorted(new_by_depth):
        plain_queryset(OrgUnit).filter(path="", depth=depth).update(
            path=Concat(Coalesce(parent_path, Value("")), Cast("pk", CharField()), Value("/"))
        )


def _moved_subtree_paths(
    units: dict[int, ExistingUnit],
    moved: dict[int, _Target],
    new_parent: dict[int, int | None],
    pk_for: Callable[[int | None], int | None],
) -> dict[int, str]:
    """Final paths of the existing units that sit in a moved unit's subtree (itself included).

    Worked out from the final parents: a moved unit's target parent, a new unit's parent,
    everyone else's current parent. Units outside moved subtrees keep their paths.
    """
    moved_keys = {str(node) for node in moved}
    affected = [pk for pk, unit in units.items() if not moved_keys.isdisjoint(unit.path.split("/"))]
    affected_set = set(affected)
    final: dict[int, str] = {}

    def path_of(node: int) -> str:
        if node in final:
            return final[node]
        if node > 0 and node not in affected_set:
            return units[node].path
        if node in moved:
            parent = moved[node].parent
        elif node > 0:
            parent = units[node].parent_id
        else:
            parent = new_parent[node]
        final[node] = f"{path_of(parent) if parent is not None else ''}{pk_for(node)}/"
        return final[node]

    return {pk: path for pk in affected if (path := path_of(pk)) != units[pk].path}

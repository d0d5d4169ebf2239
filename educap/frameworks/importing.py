"""Import a framework record: check everything, preview, then write all or nothing.

`framework_import_plan` works out, without writing, what importing a `FrameworkRecord`
(from CASE, Moodle CSV or the spreadsheet template) would do, and every problem with it,
each with its place in the record (`items[3].parent`, `profiles[1].requirements[0]`).
`framework_import_apply` writes a problem-free plan in one transaction, with one audit
event.

A framework version is found by code and version (the code comes from the caller, else
from the record). Importing into a version that does not exist creates a draft; into an
existing draft, updates it in place so that it matches the record (items are kept by
their identifier, and created, changed or deleted as needed); into a published or
retired version, is refused unless nothing would change. Re-importing the same record
changes nothing.

Items keep their identifiers (CASE identifiers). An item without one keeps the one of
the existing item with its code, or gets one derived from the framework and item codes,
so that importing the same file twice gives the same identifiers.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField, ProtectedError, Value
from django.db.models.functions import Cast, Concat
from django.utils import translation
from django.utils.translation import gettext as _

from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.frameworks.exporting import framework_to_record
from educap.frameworks.io.records import (
    LANGUAGES,
    FrameworkRecord,
    Problem,
    ScaleRecord,
    Texts,
)
from educap.frameworks.models import (
    Framework,
    FrameworkItem,
    FrameworkStatus,
    ItemKind,
    ItemRelation,
    LevelIndicator,
    ProficiencyScale,
    RelationKind,
    Requirement,
    RoleProfile,
    ScaleLevel,
)
from educap.frameworks.services import framework_edit_allowed
from educap.frameworks.signals import requirements_changed
from educap.org.models import code_validator
from educap.people.models import Role

if TYPE_CHECKING:
    import re

    from educap.accounts.models import User

__all__ = [
    "DEFAULT_SCALE_CODE",
    "ChangeKind",
    "FrameworkImportErrorCode",
    "FrameworkImportPlan",
    "ImportOutcome",
    "ItemChange",
    "framework_import_allowed",
    "framework_import_apply",
    "framework_import_plan",
]

DEFAULT_SCALE_CODE = "default-5"
_IDENTIFIERS = uuid.UUID("3c9e1f0a-52b7-5d64-8e19-7a0b4c2d6e58")
# Longest values the models accept.
_MAX = {
    "framework_code": 100,
    "version": 40,
    "title": 300,
    "short_text": 300,  # licence, source, publisher, keywords
    "identifier": 100,
    "item_code": 100,
    "statement": 500,
    "profile_code": 60,
    "profile_name": 200,
    "scale_code": 60,
    "scale_name": 200,
    "level_code": 40,
    "level_name": 120,
    "kind_label": 100,
    "target_identifier": 300,
    "target_uri": 500,
}
_LEVEL_VALUE_MAX = 32767
_SEQUENCE_MAX = 2_147_483_647


class FrameworkImportErrorCode(StrEnum):
    """Stable codes for every problem a framework import can report."""

    NOT_ALLOWED = "framework_import_not_allowed"
    REQUIRED = "framework_import_value_required"
    TOO_LONG = "framework_import_value_too_long"
    INVALID_CODE = "framework_import_invalid_code"
    INVALID_VALUE = "framework_import_invalid_value"
    UNSUPPORTED_LANGUAGE = "framework_import_unsupported_language"
    EMPTY = "framework_import_empty"
    DUPLICATE_IDENTIFIER = "framework_import_duplicate_identifier"
    DUPLICATE_CODE = "framework_import_duplicate_code"
    UNKNOWN_PARENT = "framework_import_unknown_parent"
    CYCLE = "framework_import_cycle"
    INVALID_KIND = "framework_import_invalid_kind"
    UNKNOWN_LEVEL = "framework_import_unknown_level"
    UNKNOWN_ITEM = "framework_import_unknown_item"
    INVALID_WEIGHT = "framework_import_invalid_weight"
    DUPLICATE_REQUIREMENT = "framework_import_duplicate_requirement"
    DUPLICATE_PROFILE = "framework_import_duplicate_profile"
    UNKNOWN_BASE = "framework_import_unknown_base"
    PROFILE_CYCLE = "framework_import_profile_cycle"
    UNKNOWN_ROLE = "framework_import_unknown_role"
    DUPLICATE_ROLE = "framework_import_duplicate_role"
    DUPLICATE_LEVEL = "framework_import_duplicate_level"
    EMPTY_SCALE = "framework_import_empty_scale"
    SCALE_MISMATCH = "framework_import_scale_mismatch"
    DEFAULT_SCALE_MISSING = "framework_import_default_scale_missing"
    PUBLISHED_DIFFERS = "framework_import_published_differs"
    IDENTIFIER_IN_USE = "framework_import_identifier_in_use"
    OTHER_LANGUAGES = "framework_import_other_languages"
    PLAN_HAS_PROBLEMS = "framework_import_plan_has_problems"
    PLAN_STALE = "framework_import_plan_stale"
    IN_USE = "framework_import_in_use"


class ImportOutcome(StrEnum):
    CREATED = "created"  # a new draft version
    UPDATED = "updated"  # an existing draft changed in place
    UNCHANGED = "unchanged"


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class ItemChange:
    identifier: str
    code: str
    kind: ChangeKind
    fields: tuple[str, ...] = ()


# What the record resolves to ---------------------------------------------------------


@dataclass
class _Item:
    index: int
    identifier: str
    code: str
    kind: str
    parent: str  # the parent's identifier, "" at the top
    sequence: int  # position among its siblings, from 1
    depth: int
    statement: Texts
    description: Texts
    keywords: str
    indicators: dict[str, Texts]

    def state(self) -> tuple[Any, ...]:
        return (
            self.code,
            self.kind,
            self.parent,
            self.sequence,
            _canon(self.statement),
            _canon(self.description),
            self.keywords,
            tuple(sorted((code, _canon(t)) for code, t in self.indicators.items())),
        )


_ITEM_STATE_FIELDS = (
    "code",
    "kind",
    "parent",
    "sequence",
    "statement",
    "description",
    "keywords",
    "indicators",
)


@dataclass(frozen=True)
class _Relation:
    source: str  # item identifier
    kind: str  # RelationKind value
    kind_label: str
    target: str  # item identifier when the target is in the framework, else ""
    target_identifier: str  # external target
    target_uri: str
    identifier: str
    sequence: int | None


@dataclass(frozen=True)
class _Profile:
    code: str
    name: tuple[tuple[str, str], ...]
    role: str
    base: str
    requirements: tuple[tuple[str, str, int], ...]  # item identifier, level code, weight


@dataclass
class _Scale:
    pk: int | None  # an existing scale, or None for a new one from `record`
    record: ScaleRecord | None
    level_codes: frozenset[str]


@dataclass
class _Resolved:
    framework: tuple[Any, ...]
    items: dict[str, _Item]
    relations: list[_Relation]
    profiles: dict[str, _Profile]

    def same_as(self, other: _Resolved) -> bool:
        return (
            self.framework == other.framework
            and {k: v.state() for k, v in self.items.items()}
            == {k: v.state() for k, v in other.items.items()}
            and sorted(self.relations, key=_relation_key)
            == sorted(other.relations, key=_relation_key)
            and self.profiles == other.profiles
        )


def _relation_key(relation: _Relation) -> tuple[Any, ...]:
    return (
        relation.identifier,
        relation.source,
        relation.kind,
        relation.kind_label,
        relation.target,
        relation.target_identifier,
        relation.target_uri,
        -1 if relation.sequence is None else relation.sequence,
    )


def _canon(texts: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((lang, text) for lang, text in texts.items() if text and lang in LANGUAGES))


@dataclass
class FrameworkImportPlan:
    """What an import would do, and everything that stops it."""

    record: FrameworkRecord
    code: str
    version: str
    source: str = ""
    problems: list[Problem] = field(default_factory=list)
    # Worth telling, not stopping: e.g. a CFDocument identifier another version already has.
    warnings: list[Problem] = field(default_factory=list)
    outcome: ImportOutcome | None = None  # None when there are problems
    framework_id: int | None = None
    framework_status: str = ""
    item_changes: list[ItemChange] = field(default_factory=list)
    identifier: str = ""
    scale: _Scale | None = field(default=None, repr=False)
    resolved: _Resolved | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def language(self) -> str:
        return self.record.language if self.record.language in LANGUAGES else "en"

    @property
    def counts(self) -> dict[str, int]:
        counts = {f"items_{kind.value}": 0 for kind in ChangeKind}
        for change in self.item_changes:
            counts[f"items_{change.kind.value}"] += 1
        resolved = self.resolved
        counts["indicators"] = (
            sum(len(i.indicators) for i in resolved.items.values()) if resolved else 0
        )
        counts["relations"] = len(resolved.relations) if resolved else 0
        counts["profiles"] = len(resolved.profiles) if resolved else 0
        counts["requirements"] = (
            sum(len(p.requirements) for p in resolved.profiles.values()) if resolved else 0
        )
        return counts


def framework_import_allowed(*, user: User | None) -> bool:
    """Whoever may author frameworks may import them."""
    return framework_edit_allowed(user=user)


# Planning ------------------------------------------------------------------------------


_CODE_RE = cast("re.Pattern[str]", code_validator.regex)


def _code_is_valid(code: str) -> bool:
    return _CODE_RE.fullmatch(code) is not None


def derived_identifier(*parts: str) -> str:
    return str(uuid.uuid5(_IDENTIFIERS, "\x1f".join(parts)))


class _Resolver:
    """Checks one record and resolves its references; problems go to `problems`.

    Run on the incoming record, and on the stored framework's own record, so that both
    are compared in exactly the same shape.
    """

    def __init__(
        self,
        record: FrameworkRecord,
        *,
        code: str,
        scale: _Scale,
        scale_key: Any,
        roles: Mapping[str, int],
        existing_identifier_of_code: Mapping[str, str],
    ) -> None:
        self.record = record
        self.code = code
        self.scale = scale
        self.scale_key = scale_key
        self.roles = roles
        self.existing_identifier_of_code = existing_identifier_of_code
        self.lang = record.language if record.language in LANGUAGES else "en"
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.other_languages: set[str] = set()
        self.index_of: dict[str, int] = {}  # item identifier or code -> record index
        self.identifiers: list[str] = []  # each record item's (possibly derived) identifier
        self.rejected: set[str] = set()  # references to items left out for their problems

    def problem(self, location: str, code: FrameworkImportErrorCode, message: str) -> None:
        self.problems.append(Problem(location=location, code=code, message=message))

    def too_long(self, location: str, value: str, limit_key: str) -> bool:
        """Reports a value longer than its column, or one the database cannot store."""
        limit = _MAX[limit_key]
        if len(value) > limit:
            self.problem(
                location,
                FrameworkImportErrorCode.TOO_LONG,
                _("%(value)s is longer than %(max)s characters.")
                % {"value": value[:40] + "…", "max": limit},
            )
            return True
        return self.unstorable(location, value)

    def unstorable(self, location: str, value: str) -> bool:
        if "\x00" in value:  # PostgreSQL refuses NUL characters in text
            self.problem(
                location,
                FrameworkImportErrorCode.INVALID_VALUE,
                _("The text holds a NUL character, which cannot be stored."),
            )
            return True
        return False

    def check_code(self, location: str, code: str, limit_key: str, what: str) -> bool:
        if not code:
            self.problem(
                location,
                FrameworkImportErrorCode.REQUIRED,
                _("The %(what)s has no code.") % {"what": what},
            )
            return False
        if self.too_long(location, code, limit_key):
            return False
        if not _code_is_valid(code):
            self.problem(
                location,
                FrameworkImportErrorCode.INVALID_CODE,
                _(
                    "The code %(code)s may only hold letters, digits, dot, dash or underscore, "
                    "starting with a letter or digit."
                )
                % {"code": code},
            )
            return False
        return True

    def texts(self, location: str, texts: Texts, limit_key: str | None = None) -> None:
        for lang, text in texts.items():
            if lang not in LANGUAGES and text:
                self.other_languages.add(lang)
            elif limit_key:
                self.too_long(f"{location}.{lang}", text, limit_key)
            else:
                self.unstorable(f"{location}.{lang}", text)

    def needs_text(self, location: str, texts: Texts, message: str) -> None:
        if not texts.get(self.lang):
            self.problem(location, FrameworkImportErrorCode.REQUIRED, message)

    # The framework -----------------------------------------------------------------
    def check_framework(self, version: str) -> tuple[Any, ...]:
        r = self.record
        self.check_code("framework.code", self.code, "framework_code", _("framework"))
        if not version:
            self.problem(
                "framework.version", FrameworkImportErrorCode.REQUIRED, _("The version is empty.")
            )
        else:
            self.too_long("framework.version", version, "version")
        if r.language not in LANGUAGES:
            self.problem(
                "framework.language",
                FrameworkImportErrorCode.UNSUPPORTED_LANGUAGE,
                _("The framework's language %(language)s is not one of %(languages)s.")
                % {"language": r.language, "languages": ", ".join(LANGUAGES)},
            )
        self.needs_text(
            "framework.title",
            r.title,
            _("The framework has no title in its language (%(language)s).")
            % {"language": self.lang},
        )
        self.texts("framework.title", r.title, "title")
        self.texts("framework.description", r.description)
        for name in ("licence", "source", "publisher"):
            self.too_long(f"framework.{name}", getattr(r, name), "short_text")
        if self.record.identifier:
            self.too_long("framework.identifier", self.record.identifier, "identifier")
        return (
            _canon(r.title),
            _canon(r.description),
            self.lang,
            r.licence,
            r.source,
            r.publisher,
            self.scale_key,
        )

    # Items -------------------------------------------------------------------------
    def resolve_items(self) -> dict[str, _Item]:
        record_items = self.record.items
        if not record_items:
            self.problem(
                "items",
                FrameworkImportErrorCode.EMPTY,
                _("The framework has no domains or competencies."),
            )
        first_of_code: dict[str, int] = {}
        first_of_identifier: dict[str, int] = {}
        identifiers: list[str] = []
        bad: set[int] = set()
        for i, item in enumerate(record_items):
            loc = f"items[{i}]"
            if not self.check_code(f"{loc}.code", item.code, "item_code", _("item")):
                bad.add(i)
            elif item.code in first_of_code:
                self.problem(
                    f"{loc}.code",
                    FrameworkImportErrorCode.DUPLICATE_CODE,
                    _("The code %(code)s is already used by items[%(first)s].")
                    % {"code": item.code, "first": first_of_code[item.code]},
                )
                bad.add(i)
            else:
                first_of_code[item.code] = i
            identifier = (
                item.identifier
                or self.existing_identifier_of_code.get(item.code)
                or derived_identifier(self.code, item.code)
            )
            identifiers.append(identifier)
            if self.too_long(f"{loc}.identifier", identifier, "identifier"):
                bad.add(i)
            elif identifier in first_of_identifier:
                self.problem(
                    f"{loc}.identifier",
                    FrameworkImportErrorCode.DUPLICATE_IDENTIFIER,
                    _("The identifier %(identifier)s is already used by items[%(first)s].")
                    % {"identifier": identifier, "first": first_of_identifier[identifier]},
                )
                bad.add(i)
            else:
                first_of_identifier[identifier] = i
            if item.kind not in ItemKind.values:
                self.problem(
                    f"{loc}.kind",
                    FrameworkImportErrorCode.INVALID_KIND,
                    _("Item %(code)s is a %(kind)s; it must be a domain or a competency.")
                    % {"code": item.code, "kind": item.kind or "?"},
                )
            self.needs_text(
                f"{loc}.statement",
                item.statement,
                _("Item %(code)s has no statement in the framework's language (%(language)s).")
                % {"code": item.code, "language": self.lang},
            )
            self.texts(f"{loc}.statement", item.statement, "statement")
            self.texts(f"{loc}.description", item.description)
            self.too_long(f"{loc}.keywords", item.keywords, "short_text")
            for level_code, texts in item.indicators.items():
                if level_code not in self.scale.level_codes:
                    self.problem(
                        f"{loc}.indicators.{level_code}",
                        FrameworkImportErrorCode.UNKNOWN_LEVEL,
                        _("Item %(code)s describes level %(level)s, which is not on the scale.")
                        % {"code": item.code, "level": level_code},
                    )
                self.texts(f"{loc}.indicators.{level_code}", texts)

        # Parents: an identifier, or failing that a code, of an item of the record.
        self.identifiers = identifiers
        self.rejected = {
            ref
            for i in bad
            for ref in (identifiers[i], record_items[i].code, record_items[i].identifier)
            if ref
        } - {identifiers[i] for i in range(len(record_items)) if i not in bad}
        for i in range(len(record_items)):
            if i not in bad:
                self.index_of.setdefault(identifiers[i], i)
        for i, item in enumerate(record_items):
            if i not in bad and item.code:
                self.index_of.setdefault(item.code, i)
        parent_of: dict[int, int | None] = {}
        for i, item in enumerate(record_items):
            if not item.parent:
                parent_of[i] = None
                continue
            parent = self.index_of.get(item.parent)
            if parent is None and item.parent in self.rejected:
                bad.add(i)  # its parent already has a problem of its own
                continue
            if parent is None:
                self.problem(
                    f"items[{i}].parent",
                    FrameworkImportErrorCode.UNKNOWN_PARENT,
                    _("The parent %(parent)s of item %(code)s is not an item of the framework.")
                    % {"parent": item.parent, "code": item.code},
                )
                bad.add(i)
                continue
            parent_of[i] = parent
        self.break_cycles(parent_of, bad)

        depth: dict[int, int] = {}
        for i in parent_of:
            chain: list[int] = []
            node: int | None = i
            while node is not None and node not in depth:
                chain.append(node)
                node = parent_of.get(node)
            base = -1 if node is None else depth[node]
            for n in reversed(chain):
                base += 1
                depth[n] = base
        siblings: dict[int | None, list[int]] = defaultdict(list)
        for i in parent_of:
            siblings[parent_of[i]].append(i)
        rank: dict[int, int] = {}
        for group in siblings.values():
            group.sort(key=lambda n: (record_items[n].sequence, n))
            rank.update({n: position for position, n in enumerate(group, start=1)})

        items: dict[str, _Item] = {}
        for i, item in enumerate(record_items):
            if i in bad or i not in parent_of:
                continue
            parent = parent_of[i]
            items[identifiers[i]] = _Item(
                index=i,
                identifier=identifiers[i],
                code=item.code,
                kind=item.kind,
                parent=identifiers[parent] if parent is not None else "",
                sequence=rank[i],
                depth=depth[i],
                statement={k: v for k, v in item.statement.items() if v and k in LANGUAGES},
                description={k: v for k, v in item.description.items() if v and k in LANGUAGES},
                keywords=item.keywords,
                indicators={
                    code: kept
                    for code, texts in item.indicators.items()
                    if (kept := {k: v for k, v in texts.items() if v and k in LANGUAGES})
                },
            )
        return items

    def break_cycles(self, parent_of: dict[int, int | None], bad: set[int]) -> None:
        state: dict[int, int] = {}
        record_items = self.record.items
        for start in list(parent_of):
            path: list[int] = []
            node: int | None = start
            while node is not None and node in parent_of and node not in state:
                state[node] = 1
                path.append(node)
                node = parent_of[node]
            if node is not None and state.get(node) == 1:
                cycle = path[path.index(node) :]
                names = [record_items[n].code or record_items[n].identifier for n in cycle]
                self.problem(
                    f"items[{cycle[0]}].parent",
                    FrameworkImportErrorCode.CYCLE,
                    _("Items are their own ancestors: %(items)s.")
                    % {"items": " → ".join([*names, names[0]])},
                )
                for n in cycle:
                    bad.add(n)
                    parent_of.pop(n, None)
            for n in path:
                state[n] = 2
        # Items under a dropped item go too, without a problem of their own.
        changed = True
        while changed:
            changed = False
            for n, parent in list(parent_of.items()):
                if parent is not None and parent not in parent_of:
                    parent_of.pop(n)
                    changed = True

    def is_rejected(self, ref: str, items: Mapping[str, _Item]) -> bool:
        """Whether `ref` names an item of the record that was left out for its own problem."""
        identifier = self.item_identifier(ref)
        return ref in self.rejected or (identifier is not None and identifier not in items)

    def item_identifier(self, ref: str) -> str | None:
        index = self.index_of.get(ref)
        return None if index is None else self.identifiers[index]

    # Relations ---------------------------------------------------------------------
    def resolve_relations(self, items: Mapping[str, _Item]) -> list[_Relation]:
        kinds = {kind.lower(): kind for kind in RelationKind.values}
        relations: list[_Relation] = []
        seen: dict[str, int] = {}
        for j, rel in enumerate(self.record.relations):
            loc = f"relations[{j}]"
            source = self.item_identifier(rel.source)
            if source is None or source not in items:
                if self.is_rejected(rel.source, items):
                    continue
                self.problem(
                    f"{loc}.source",
                    FrameworkImportErrorCode.UNKNOWN_ITEM,
                    _("The relation starts from %(item)s, which is not an item of the framework.")
                    % {"item": rel.source or "?"},
                )
                continue
            if not rel.kind:
                self.problem(
                    f"{loc}.kind", FrameworkImportErrorCode.REQUIRED, _("The relation has no kind.")
                )
                continue
            kind = kinds.get(rel.kind.lower())
            label = ""
            if kind is None:
                kind, label = RelationKind.OTHER.value, rel.kind
                if self.too_long(f"{loc}.kind", label, "kind_label"):
                    continue
            if not rel.target:
                self.problem(
                    f"{loc}.target",
                    FrameworkImportErrorCode.REQUIRED,
                    _("The relation has no target."),
                )
                continue
            internal = rel.target in items
            if not internal and (
                self.too_long(f"{loc}.target", rel.target, "target_identifier")
                or self.too_long(f"{loc}.target_uri", rel.target_uri, "target_uri")
            ):
                continue
            identifier = rel.identifier or derived_identifier(
                source, kind, label, rel.target, rel.target_uri
            )
            if self.too_long(f"{loc}.identifier", identifier, "identifier"):
                continue
            if identifier in seen:
                self.problem(
                    f"{loc}.identifier",
                    FrameworkImportErrorCode.DUPLICATE_IDENTIFIER,
                    _("The identifier %(identifier)s is already used by relations[%(first)s].")
                    % {"identifier": identifier, "first": seen[identifier]},
                )
                continue
            seen[identifier] = j
            if rel.sequence is not None and not 0 <= rel.sequence <= _SEQUENCE_MAX:
                self.problem(
                    f"{loc}.sequence",
                    FrameworkImportErrorCode.INVALID_VALUE,
                    _("The sequence number %(value)s is out of range.") % {"value": rel.sequence},
                )
                continue
            relations.append(
                _Relation(
                    source=source,
                    kind=kind,
                    kind_label=label,
                    target=rel.target if internal else "",
                    target_identifier="" if internal else rel.target,
                    target_uri="" if internal else rel.target_uri,
                    identifier=identifier,
                    sequence=rel.sequence,
                )
            )
        return relations

    # Role profiles -----------------------------------------------------------------
    def resolve_profiles(self, items: Mapping[str, _Item]) -> dict[str, _Profile]:
        record_profiles = self.record.profiles
        codes = {p.code for p in record_profiles}
        first_of_code: dict[str, int] = {}
        first_of_role: dict[str, int] = {}
        base_of: dict[str, str] = {}
        profiles: dict[str, _Profile] = {}
        for k, profile in enumerate(record_profiles):
            loc = f"profiles[{k}]"
            ok = self.check_code(f"{loc}.code", profile.code, "profile_code", _("role profile"))
            if ok and profile.code in first_of_code:
                self.problem(
                    f"{loc}.code",
                    FrameworkImportErrorCode.DUPLICATE_PROFILE,
                    _("The profile code %(code)s is already used by profiles[%(first)s].")
                    % {"code": profile.code, "first": first_of_code[profile.code]},
                )
                ok = False
            elif ok:
                first_of_code[profile.code] = k
            if not (profile.name.get(self.lang) or profile.name.get("en")):
                self.problem(
                    f"{loc}.name",
                    FrameworkImportErrorCode.REQUIRED,
                    _("Profile %(code)s has no name in the framework's language or English.")
                    % {"code": profile.code},
                )
            self.texts(f"{loc}.name", profile.name, "profile_name")
            if profile.role:
                if profile.role not in self.roles:
                    self.problem(
                        f"{loc}.role",
                        FrameworkImportErrorCode.UNKNOWN_ROLE,
                        _(
                            "Profile %(code)s is for role %(role)s, which is not in EduCap's "
                            "list of roles."
                        )
                        % {"code": profile.code, "role": profile.role},
                    )
                elif profile.role in first_of_role:
                    self.problem(
                        f"{loc}.role",
                        FrameworkImportErrorCode.DUPLICATE_ROLE,
                        _("Role %(role)s already has a profile: profiles[%(first)s].")
                        % {"role": profile.role, "first": first_of_role[profile.role]},
                    )
                else:
                    first_of_role[profile.role] = k
            if profile.base and profile.base not in codes:
                self.problem(
                    f"{loc}.base",
                    FrameworkImportErrorCode.UNKNOWN_BASE,
                    _("Profile %(code)s inherits from %(base)s, which is not a profile here.")
                    % {"code": profile.code, "base": profile.base},
                )
            elif profile.base:
                base_of[profile.code] = profile.base
            requirements: dict[str, tuple[str, str, int]] = {}
            for m, req in enumerate(profile.requirements):
                r_loc = f"{loc}.requirements[{m}]"
                item = self.item_identifier(req.item)
                if item is None or item not in items:
                    if self.is_rejected(req.item, items):
                        continue
                    self.problem(
                        f"{r_loc}.item",
                        FrameworkImportErrorCode.UNKNOWN_ITEM,
                        _("Profile %(code)s requires %(item)s, which is not an item here.")
                        % {"code": profile.code, "item": req.item or "?"},
                    )
                    continue
                if req.level not in self.scale.level_codes:
                    self.problem(
                        f"{r_loc}.level",
                        FrameworkImportErrorCode.UNKNOWN_LEVEL,
                        _("Profile %(code)s requires level %(level)s, which is not on the scale.")
                        % {"code": profile.code, "level": req.level or "?"},
                    )
                    continue
                if not 1 <= req.weight <= 4:
                    self.problem(
                        f"{r_loc}.weight",
                        FrameworkImportErrorCode.INVALID_WEIGHT,
                        _("The importance %(weight)s must be from 1 to 3, or 4 for critical.")
                        % {"weight": req.weight},
                    )
                    continue
                if item in requirements:
                    self.problem(
                        f"{r_loc}.item",
                        FrameworkImportErrorCode.DUPLICATE_REQUIREMENT,
                        _("Profile %(code)s lists %(item)s twice.")
                        % {"code": profile.code, "item": req.item},
                    )
                    continue
                requirements[item] = (item, req.level, req.weight)
            if ok:
                profiles[profile.code] = _Profile(
                    code=profile.code,
                    name=_canon(profile.name),
                    role=profile.role,
                    base=profile.base,
                    requirements=tuple(sorted(requirements.values())),
                )
        # Inheritance cycles.
        for start in base_of:
            seen = [start]
            node = base_of.get(start)
            while node is not None and node not in seen:
                seen.append(node)
                node = base_of.get(node)
            if node == start:
                self.problem(
                    f"profiles[{first_of_code.get(start, 0)}].base",
                    FrameworkImportErrorCode.PROFILE_CYCLE,
                    _("Profile %(code)s inherits from itself: %(chain)s.")
                    % {"code": start, "chain": " → ".join([*seen, start])},
                )
        return profiles

    def resolve(self, version: str) -> _Resolved:
        framework = self.check_framework(version)
        items = self.resolve_items()
        relations = self.resolve_relations(items)
        profiles = self.resolve_profiles(items)
        if self.other_languages:
            self.warnings.append(
                Problem(
                    location="framework",
                    code=FrameworkImportErrorCode.OTHER_LANGUAGES,
                    message=_("Texts in %(languages)s are not kept: EduCap holds %(supported)s.")
                    % {
                        "languages": ", ".join(sorted(self.other_languages)),
                        "supported": ", ".join(LANGUAGES),
                    },
                )
            )
        return _Resolved(framework=framework, items=items, relations=relations, profiles=profiles)


def _resolve_scale(
    record: ScaleRecord | None, lang: str, problems: list[Problem]
) -> tuple[_Scale, Any]:
    """The scale a record uses: the default one, an existing one, or a new one."""

    def problem(location: str, code: FrameworkImportErrorCode, message: str) -> None:
        problems.append(Problem(location=location, code=code, message=message))

    if record is None:
        default = ProficiencyScale.objects.filter(code=DEFAULT_SCALE_CODE).first()
        if default is None:
            problem(
                "scale",
                FrameworkImportErrorCode.DEFAULT_SCALE_MISSING,
                _("The default scale %(code)s is missing.") % {"code": DEFAULT_SCALE_CODE},
            )
            return _Scale(pk=None, record=None, level_codes=frozenset()), None
        default_codes = frozenset(default.levels.values_list("code", flat=True))
        return _Scale(pk=default.pk, record=None, level_codes=default_codes), default.pk

    ok = True
    if not record.code:
        problem("scale.code", FrameworkImportErrorCode.REQUIRED, _("The scale has no code."))
        ok = False
    elif len(record.code) > _MAX["scale_code"] or not _code_is_valid(record.code):
        problem(
            "scale.code",
            FrameworkImportErrorCode.INVALID_CODE,
            _("The scale code %(code)s is not a valid code of at most %(max)s characters.")
            % {"code": record.code[:80], "max": _MAX["scale_code"]},
        )
        ok = False
    if len(record.identifier) > _MAX["identifier"]:
        problem(
            "scale.identifier",
            FrameworkImportErrorCode.TOO_LONG,
            _("The scale identifier is longer than %(max)s characters.")
            % {"max": _MAX["identifier"]},
        )
        ok = False
    if not (record.name.get(lang) or record.name.get("en")):
        problem(
            "scale.name",
            FrameworkImportErrorCode.REQUIRED,
            _("The scale has no name in the framework's language or English."),
        )
        ok = False
    if any(len(name) > _MAX["scale_name"] for name in record.name.values()):
        problem(
            "scale.name",
            FrameworkImportErrorCode.TOO_LONG,
            _("The scale name is longer than %(max)s characters.") % {"max": _MAX["scale_name"]},
        )
        ok = False
    if not record.levels:
        problem("scale.levels", FrameworkImportErrorCode.EMPTY_SCALE, _("The scale has no levels."))
        ok = False
    codes: dict[str, int] = {}
    values: dict[int, int] = {}
    for n, level in enumerate(record.levels):
        loc = f"scale.levels[{n}]"
        if not level.code or len(level.code) > _MAX["level_code"]:
            problem(
                f"{loc}.code",
                FrameworkImportErrorCode.INVALID_CODE,
                _("A level needs a code of at most %(max)s characters.")
                % {"max": _MAX["level_code"]},
            )
            ok = False
        elif level.code in codes:
            problem(
                f"{loc}.code",
                FrameworkImportErrorCode.DUPLICATE_LEVEL,
                _("The level code %(code)s is already used by scale.levels[%(first)s].")
                % {"code": level.code, "first": codes[level.code]},
            )
            ok = False
        else:
            codes[level.code] = n
        if not 0 <= level.value <= _LEVEL_VALUE_MAX:
            problem(
                f"{loc}.value",
                FrameworkImportErrorCode.INVALID_VALUE,
                _("The level value %(value)s must be from 0 to %(max)s.")
                % {"value": level.value, "max": _LEVEL_VALUE_MAX},
            )
            ok = False
        elif level.value in values:
            problem(
                f"{loc}.value",
                FrameworkImportErrorCode.DUPLICATE_LEVEL,
                _("The level value %(value)s is already used by scale.levels[%(first)s].")
                % {"value": level.value, "first": values[level.value]},
            )
            ok = False
        else:
            values[level.value] = n
        if not (level.name.get(lang) or level.name.get("en")):
            problem(
                f"{loc}.name",
                FrameworkImportErrorCode.REQUIRED,
                _("Level %(code)s has no name in the framework's language or English.")
                % {"code": level.code},
            )
            ok = False
        elif any(len(name) > _MAX["level_name"] for name in level.name.values()):
            problem(
                f"{loc}.name",
                FrameworkImportErrorCode.TOO_LONG,
                _("The level name is longer than %(max)s characters.")
                % {"max": _MAX["level_name"]},
            )
            ok = False
    scale_texts = [
        *record.name.values(),
        *record.description.values(),
        *(text for level in record.levels for text in (*level.name.values(), level.code)),
        *(text for level in record.levels for text in level.descriptor.values()),
    ]
    if any("\x00" in text for text in scale_texts):
        problem(
            "scale",
            FrameworkImportErrorCode.INVALID_VALUE,
            _("A text of the scale holds a NUL character, which cannot be stored."),
        )
        ok = False
    level_codes = frozenset(codes)
    if not ok:
        return _Scale(pk=None, record=record, level_codes=level_codes), None

    existing = None
    if record.identifier:
        existing = ProficiencyScale.objects.filter(identifier=record.identifier).first()
    if existing is None:
        existing = ProficiencyScale.objects.filter(code=record.code).first()
    if existing is None:
        return _Scale(pk=None, record=record, level_codes=level_codes), f"new:{record.code}"
    stored = set(existing.levels.values_list("code", "value"))
    if stored != {(level.code, level.value) for level in record.levels}:
        problem(
            "scale",
            FrameworkImportErrorCode.SCALE_MISMATCH,
            _(
                "EduCap already has the scale %(code)s with other levels (%(levels)s). "
                "Give the file's scale another code and identifier."
            )
            % {
                "code": existing.code,
                "levels": ", ".join(f"{c}={v}" for c, v in sorted(stored, key=lambda x: x[1])),
            },
        )
    return _Scale(pk=existing.pk, record=None, level_codes=level_codes), existing.pk


def framework_import_plan(
    *,
    actor: User | None,
    record: FrameworkRecord,
    code: str | None = None,
    version: str | None = None,
    source: str = "",
) -> FrameworkImportPlan:
    """Check `record` against the database and work out what importing it would do.

    Writes nothing. `code` and `version` override the record's (e.g. to import a file
    as a new version); `source` names the file in the audit log.
    """
    code = code or record.code
    version = version or record.version
    plan = FrameworkImportPlan(record=record, code=code, version=version, source=source)
    if not framework_import_allowed(user=actor):
        plan.problems.append(
            Problem(
                "framework",
                FrameworkImportErrorCode.NOT_ALLOWED,
                _("Only system administrators and central officers may import frameworks."),
            )
        )
    lang = plan.language
    scale, scale_key = _resolve_scale(record.scale, lang, plan.problems)
    existing = Framework.objects.filter(code=code, version=version).first()
    existing_identifier_of_code: dict[str, str] = {}
    if existing is not None:
        existing_identifier_of_code = dict(
            FrameworkItem.objects.filter(framework=existing).values_list("code", "identifier")
        )
    role_codes = {p.role for p in record.profiles if p.role}
    roles = dict(Role.objects.filter(code__in=role_codes).values_list("code", "pk"))
    resolver = _Resolver(
        record,
        code=code,
        scale=scale,
        scale_key=scale_key,
        roles=roles,
        existing_identifier_of_code=existing_identifier_of_code,
    )
    desired = resolver.resolve(version)
    plan.problems.extend(resolver.problems)
    plan.warnings.extend(resolver.warnings)
    plan.scale, plan.resolved = scale, desired
    if existing is None:
        plan.identifier = _new_framework_identifier(record, plan.warnings)
    else:
        plan.identifier = existing.identifier
        plan.framework_id = existing.pk
        plan.framework_status = existing.status
    if plan.problems:
        return plan

    current: _Resolved | None = None
    if existing is not None:
        current = _stored_state(existing, code)
    plan.item_changes = _item_changes(desired, current)
    if current is None:
        plan.outcome = ImportOutcome.CREATED
    elif desired.same_as(current):
        plan.outcome = ImportOutcome.UNCHANGED
    elif existing is not None and existing.status != FrameworkStatus.DRAFT:
        counts = plan.counts
        plan.problems.append(
            Problem(
                "framework.version",
                FrameworkImportErrorCode.PUBLISHED_DIFFERS,
                _(
                    "Version %(version)s of %(code)s is %(status)s and cannot change, but the "
                    "file differs from it (%(created)s items added, %(updated)s changed, "
                    "%(deleted)s removed, or other changes). Import it as a new version: "
                    "give another version (--version) or another code (--code)."
                )
                % {
                    "version": version,
                    "code": code,
                    "status": existing.get_status_display().lower(),
                    "created": counts["items_created"],
                    "updated": counts["items_updated"],
                    "deleted": counts["items_deleted"],
                },
            )
        )
        plan.item_changes = []
    else:
        plan.outcome = ImportOutcome.UPDATED
    return plan


def _new_framework_identifier(record: FrameworkRecord, warnings: list[Problem]) -> str:
    """The record's CFDocument identifier, unless another framework version holds it."""
    if not record.identifier or len(record.identifier) > _MAX["identifier"]:
        return str(uuid.uuid4())
    holder = Framework.objects.filter(identifier=record.identifier).first()
    if holder is None:
        return record.identifier
    warnings.append(
        Problem(
            "framework.identifier",
            FrameworkImportErrorCode.IDENTIFIER_IN_USE,
            _(
                "Version %(version)s of %(code)s already has the identifier %(identifier)s; "
                "this version gets a new one."
            )
            % {"version": holder.version, "code": holder.code, "identifier": record.identifier},
        )
    )
    return str(uuid.uuid4())


def _stored_state(framework: Framework, code: str) -> _Resolved:
    """The stored version in the same shape as an incoming record."""
    record = framework_to_record(framework)
    levels = frozenset(
        ScaleLevel.objects.filter(scale_id=framework.scale_id).values_list("code", flat=True)
    )
    role_codes = {p.role for p in record.profiles if p.role}
    resolver = _Resolver(
        record,
        code=code,
        scale=_Scale(pk=framework.scale_id, record=None, level_codes=levels),
        scale_key=framework.scale_id,
        roles=dict.fromkeys(role_codes, 0),
        existing_identifier_of_code={},
    )
    return resolver.resolve(framework.version)


def _item_changes(desired: _Resolved, current: _Resolved | None) -> list[ItemChange]:
    before = current.items if current is not None else {}
    changes: list[ItemChange] = []
    for identifier, item in desired.items.items():
        old = before.get(identifier)
        if old is None:
            changes.append(ItemChange(identifier, item.code, ChangeKind.CREATED))
            continue
        fields = tuple(
            name
            for name, a, b in zip(_ITEM_STATE_FIELDS, old.state(), item.state(), strict=True)
            if a != b
        )
        kind = ChangeKind.UPDATED if fields else ChangeKind.UNCHANGED
        changes.append(ItemChange(identifier, item.code, kind, fields))
    changes.extend(
        ItemChange(identifier, item.code, ChangeKind.DELETED)
        for identifier, item in before.items()
        if identifier not in desired.items
    )
    return changes


# Applying -------------------------------------------------------------------------------


def framework_import_apply(*, actor: User | None, plan: FrameworkImportPlan) -> Framework:
    """Write a problem-free plan in one transaction, or nothing at all.

    The plan is worked out again inside the transaction; if the database changed since
    (other counts or another outcome), nothing is written.
    """
    if not framework_import_allowed(user=actor):
        raise PermissionDenied(FrameworkImportErrorCode.NOT_ALLOWED)
    if plan.problems:
        raise ValidationError(
            _("The import has %(count)s problems; nothing was imported.")
            % {"count": len(plan.problems)},
            code=FrameworkImportErrorCode.PLAN_HAS_PROBLEMS,
        )
    with transaction.atomic():
        fresh = framework_import_plan(
            actor=actor,
            record=plan.record,
            code=plan.code,
            version=plan.version,
            source=plan.source,
        )
        if fresh.problems or fresh.outcome != plan.outcome or fresh.counts != plan.counts:
            raise ValidationError(
                _("The framework changed since this import was checked; check it again."),
                code=FrameworkImportErrorCode.PLAN_STALE,
            )
        if fresh.outcome == ImportOutcome.UNCHANGED:
            assert fresh.framework_id is not None
            framework = Framework.objects.get(pk=fresh.framework_id)
        else:
            try:
                # The plain columns take the framework's language (modeltranslation saves
                # the active language's text there, falling back to English).
                with translation.override(fresh.language):
                    framework = _write(fresh)
            except ProtectedError as exc:
                raise ValidationError(
                    _(
                        "Items or profiles this import would remove are in use elsewhere "
                        "(e.g. by ratings or campaigns); nothing was imported."
                    ),
                    code=FrameworkImportErrorCode.IN_USE,
                ) from exc
            requirements_changed.send(sender=Framework, framework_id=framework.pk)
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT,
            instance=framework,
            after={
                "source": fresh.source,
                "outcome": str(fresh.outcome),
                "code": fresh.code,
                "version": fresh.version,
                **fresh.counts,
            },
        )
    return framework


def _localized(field_name: str, texts: Mapping[str, str]) -> dict[str, str | None]:
    """`<field>_<lang>` values; the plain field follows from them when the row is saved
    (modeltranslation: the active language, which is the framework's, then English)."""
    return {f"{field_name}_{lang}": texts.get(lang) or None for lang in LANGUAGES}


def _localized_names(field_name: str) -> list[str]:
    return [field_name, *(f"{field_name}_{lang}" for lang in LANGUAGES)]


def _write(plan: FrameworkImportPlan) -> Framework:
    resolved, scale = plan.resolved, plan.scale
    assert resolved is not None
    assert scale is not None
    record = plan.record
    scale_pk = scale.pk if scale.pk is not None else _create_scale(scale)
    level_pk = dict(ScaleLevel.objects.filter(scale_id=scale_pk).values_list("code", "pk"))

    values = {
        "language": plan.language,
        "licence": record.licence,
        "source": record.source,
        "publisher": record.publisher,
        "scale_id": scale_pk,
        **_localized("title", record.title),
        **_localized("description", record.description),
    }
    if plan.framework_id is None:
        framework = Framework(
            code=plan.code,
            version=plan.version,
            identifier=plan.identifier,
            status=FrameworkStatus.DRAFT,
            **values,
        )
        framework.full_clean()
        framework.save()
    else:
        framework = Framework.objects.get(pk=plan.framework_id)
        for name, value in values.items():
            setattr(framework, name, value)
        framework.full_clean()
        framework.save()
        # Dependent rows are written again from the record; items and profiles are kept.
        LevelIndicator.objects.filter(item__framework=framework).delete()
        ItemRelation.objects.filter(framework=framework).delete()
        Requirement.objects.filter(profile__framework=framework).delete()
        RoleProfile.objects.filter(framework=framework).update(base=None)
        RoleProfile.objects.filter(framework=framework).exclude(
            code__in=list(resolved.profiles)
        ).delete()

    item_pk = _write_items(framework, resolved.items)
    _write_indicators(resolved.items, item_pk, level_pk)
    ItemRelation.objects.bulk_create(
        ItemRelation(
            framework=framework,
            source_id=item_pk[r.source],
            kind=r.kind,
            kind_label=r.kind_label,
            target_id=item_pk[r.target] if r.target else None,
            target_identifier=r.target_identifier,
            target_uri=r.target_uri,
            identifier=r.identifier,
            sequence=r.sequence,
        )
        for r in resolved.relations
    )
    _write_profiles(framework, plan, item_pk, level_pk)
    return framework


def _create_scale(scale: _Scale) -> int:
    record = scale.record
    assert record is not None
    new = ProficiencyScale(
        code=record.code,
        identifier=record.identifier or str(uuid.uuid4()),
        **_localized("name", record.name),
        **_localized("description", record.description),
    )
    new.full_clean()
    new.save()
    ScaleLevel.objects.bulk_create(
        ScaleLevel(
            scale=new,
            code=level.code,
            value=level.value,
            **_localized("name", level.name),
            **_localized("descriptor", level.descriptor),
        )
        for level in record.levels
    )
    return new.pk


_ITEM_FIELDS = [
    "parent",
    "code",
    "kind",
    "sequence",
    "keywords",
    *_localized_names("statement"),
    *_localized_names("description"),
]


def _item_values(item: _Item) -> dict[str, Any]:
    return {
        "code": item.code,
        "kind": item.kind,
        "sequence": item.sequence,
        "keywords": item.keywords,
        **_localized("statement", item.statement),
        **_localized("description", item.description),
    }


def _write_items(framework: Framework, items: Mapping[str, _Item]) -> dict[str, int]:
    """Make the framework's items match `items`; returns each identifier's key.

    Kept items first lose their parents and get temporary codes, so that deleting,
    creating and re-coding in any combination never trips the unique codes or deletes a
    kept item along with its old parent.
    """
    stored = dict(FrameworkItem.objects.filter(framework=framework).values_list("identifier", "pk"))
    kept = {identifier: pk for identifier, pk in stored.items() if identifier in items}
    removed = [pk for identifier, pk in stored.items() if identifier not in items]
    if kept:
        FrameworkItem.objects.filter(pk__in=kept.values()).update(
            parent=None, code=Concat(Value("~import-"), Cast("pk", CharField()))
        )
    if removed:
        FrameworkItem.objects.filter(pk__in=removed).delete()

    item_pk = dict(kept)
    by_depth: dict[int, list[_Item]] = defaultdict(list)
    for item in items.values():
        if item.identifier not in kept:
            by_depth[item.depth].append(item)
    for depth in sorted(by_depth):
        group = [
            FrameworkItem(
                framework=framework,
                identifier=item.identifier,
                parent_id=item_pk[item.parent] if item.parent else None,
                **_item_values(item),
            )
            for item in by_depth[depth]
        ]
        FrameworkItem.objects.bulk_create(group)
        if any(obj.pk is None for obj in group):  # databases that do not return keys
            item_pk.update(
                FrameworkItem.objects.filter(
                    framework=framework, identifier__in=[obj.identifier for obj in group]
                ).values_list("identifier", "pk")
            )
        else:
            item_pk.update({obj.identifier: obj.pk for obj in group})

    if kept:
        updated = []
        for identifier, pk in kept.items():
            item = items[identifier]
            obj = FrameworkItem(
                pk=pk,
                framework=framework,
                identifier=identifier,
                parent_id=item_pk[item.parent] if item.parent else None,
                **_item_values(item),
            )
            updated.append(obj)
        FrameworkItem.objects.bulk_update(updated, _ITEM_FIELDS, batch_size=500)
    return item_pk


def _write_indicators(
    items: Mapping[str, _Item], item_pk: Mapping[str, int], level_pk: Mapping[str, int]
) -> None:
    LevelIndicator.objects.bulk_create(
        LevelIndicator(
            item_id=item_pk[item.identifier],
            level_id=level_pk[code],
            **_localized("text", texts),
        )
        for item in items.values()
        for code, texts in item.indicators.items()
    )


def _write_profiles(
    framework: Framework,
    plan: FrameworkImportPlan,
    item_pk: Mapping[str, int],
    level_pk: Mapping[str, int],
) -> None:
    resolved = plan.resolved
    assert resolved is not None
    names = {p.code: dict(p.name) for p in resolved.profiles.values()}
    roles = dict(
        Role.objects.filter(
            code__in=[p.role for p in resolved.profiles.values() if p.role]
        ).values_list("code", "pk")
    )
    stored = {p.code: p for p in RoleProfile.objects.filter(framework=framework)}
    new: list[RoleProfile] = []
    changed: list[RoleProfile] = []
    for profile in resolved.profiles.values():
        values = {"role_id": roles.get(profile.role), **_localized("name", names[profile.code])}
        obj = stored.get(profile.code)
        if obj is None:
            new.append(RoleProfile(framework=framework, code=profile.code, **values))
        else:
            for name, value in values.items():
                setattr(obj, name, value)
            changed.append(obj)
    # Roles move between profiles in any order: clear them first (unique per framework).
    if changed:
        RoleProfile.objects.filter(pk__in=[p.pk for p in changed]).update(role=None)
        RoleProfile.objects.bulk_update(changed, ["role", *_localized_names("name")])
    RoleProfile.objects.bulk_create(new)
    profile_pk = dict(RoleProfile.objects.filter(framework=framework).values_list("code", "pk"))
    with_base = [
        RoleProfile(pk=profile_pk[p.code], base_id=profile_pk[p.base])
        for p in resolved.profiles.values()
        if p.base
    ]
    if with_base:
        RoleProfile.objects.bulk_update(with_base, ["base"])
    Requirement.objects.bulk_create(
        Requirement(
            profile_id=profile_pk[profile.code],
            item_id=item_pk[item],
            level_id=level_pk[level],
            weight=weight,
        )
        for profile in resolved.profiles.values()
        for item, level, weight in profile.requirements
    )

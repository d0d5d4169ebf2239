"""The neutral shape every framework format parses into and serialises from.

`io/case.py`, `io/moodle_csv.py` and `io/xlsx.py` turn files into a `FrameworkRecord` (plus
problems) and back; `importing.py` turns a record into database rows. No module in io/
touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Text in several languages: {"en": "...", "ar": "...", "fr": "...", "lo": "..."}.
Texts = dict[str, str]
LANGUAGES = ("en", "ar", "fr", "lo")


@dataclass(frozen=True)
class Problem:
    """Where a file is wrong: `location` is a row number, a JSON path or a sheet!cell."""

    location: str
    code: str
    message: str
    column: str = ""


@dataclass
class LevelRecord:
    code: str
    value: int
    name: Texts
    descriptor: Texts = field(default_factory=dict)


@dataclass
class ScaleRecord:
    code: str
    name: Texts
    levels: list[LevelRecord]
    identifier: str = ""
    description: Texts = field(default_factory=dict)


@dataclass
class ItemRecord:
    """A domain or competency. `parent` is the parent's identifier ("" at the top)."""

    identifier: str
    code: str
    kind: str  # "domain" or "competency"
    statement: Texts
    parent: str = ""
    sequence: int = 0
    description: Texts = field(default_factory=dict)
    keywords: str = ""
    # Behavioural indicators per level code: {"2": {"en": "...", "ar": "..."}}.
    indicators: dict[str, Texts] = field(default_factory=dict)


@dataclass
class RelationRecord:
    """A relation kept as found: `target` is an item identifier of this file, or external."""

    source: str
    kind: str  # RelationKind value, or the original type name for unknown kinds
    target: str
    target_uri: str = ""
    identifier: str = ""
    sequence: int | None = None


@dataclass
class RequirementRecord:
    item: str  # item identifier or code
    level: str  # scale level code
    weight: int = 2  # 1..3, 4 = critical


@dataclass
class ProfileRecord:
    code: str
    name: Texts
    role: str = ""  # role code in EduCap's catalogue ("" for a base profile)
    base: str = ""  # code of the inherited profile
    requirements: list[RequirementRecord] = field(default_factory=list)


@dataclass
class FrameworkRecord:
    code: str
    title: Texts
    identifier: str = ""
    version: str = "1.0"
    language: str = "en"
    description: Texts = field(default_factory=dict)
    licence: str = ""
    source: str = ""
    publisher: str = ""
    status: str = "draft"
    scale: ScaleRecord | None = None
    items: list[ItemRecord] = field(default_factory=list)
    relations: list[RelationRecord] = field(default_factory=list)
    profiles: list[ProfileRecord] = field(default_factory=list)


@dataclass
class ParseResult:
    record: FrameworkRecord | None
    problems: list[Problem] = field(default_factory=list)

"""The EMIS staff competency framework that ships with EduCap.

The content lives in `data/emis/` as JSON, written in-house in English, Arabic, French and
Lao: `framework.json` (the document), one `NN-<slug>.json` per domain (the domain and its
competencies, each with behavioural indicators for every level of the default five-level
scale) and `profiles.json` (role profiles). Identifiers are fixed UUIDs, so the framework and
its items keep the same identity on every installation and across versions.

`emis_framework_record()` reads and checks the files and returns the neutral
`FrameworkRecord` every import format produces; it touches no database.
`emis_framework_install()` imports that record through the ordinary framework importer and
publishes it. Running it again changes nothing.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction

from educap.frameworks.io.records import (
    LANGUAGES,
    FrameworkRecord,
    ItemRecord,
    Problem,
    ProfileRecord,
    RequirementRecord,
    Texts,
)
from educap.frameworks.models import Framework, FrameworkStatus
from educap.frameworks.services import framework_publish

if TYPE_CHECKING:
    from educap.accounts.models import User

__all__ = [
    "DATA_DIR",
    "EMIS_FRAMEWORK_CODE",
    "LEVEL_CODES",
    "EmisFrameworkError",
    "emis_framework_install",
    "emis_framework_record",
]

DATA_DIR = Path(__file__).resolve().parent / "data" / "emis"
EMIS_FRAMEWORK_CODE = "EMIS-STAFF"
# Level codes of the default scale (migration 0002): 0 None ... 4 Expert.
LEVEL_CODES = ("0", "1", "2", "3", "4")
REQUIRED_LEVELS = LEVEL_CODES[1:]
WEIGHTS = (1, 2, 3, 4)
_DOMAIN_FILE = re.compile(r"^\d\d-[a-z0-9-]+\.json$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
# Text that was never written: "TODO", "TBD", "xxx", "...", "lorem ipsum", "[...]".
_PLACEHOLDER = re.compile(r"\b(todo|tbd|fixme|lorem|ipsum|xxx)\b|\.\.\.|\[[^\]]*\]", re.I)


class EmisFrameworkError(ValueError):
    """The shipped files are wrong (a packaging bug) or the import refused them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [f"{p.location}: {p.message}" for p in problems[:20]]
        more = len(problems) - len(lines)
        if more > 0:
            lines.append(f"... and {more} more")
        super().__init__("The EMIS framework data is not valid:\n" + "\n".join(lines))


class _Reader:
    """Collects every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, location: str, code: str, message: str) -> None:
        self.problems.append(Problem(location=location, code=code, message=message))

    def load(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.problem(path.name, "unreadable", str(exc))
            return None

    def obj(self, value: Any, location: str) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        self.problem(location, "not_an_object", "Expected a JSON object.")
        return {}

    def string(self, data: Mapping[str, Any], key: str, location: str) -> str:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.problem(f"{location}.{key}", "missing", "Expected a non-empty string.")
        return ""

    def texts(self, data: Mapping[str, Any], key: str, location: str) -> Texts:
        """Text in every language, written out (no placeholders)."""
        where = f"{location}.{key}"
        value = self.obj(data.get(key), where)
        texts: Texts = {}
        for lang in LANGUAGES:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                self.problem(f"{where}.{lang}", "missing_translation", "Text missing.")
                continue
            if _PLACEHOLDER.search(text):
                self.problem(f"{where}.{lang}", "placeholder", f"Placeholder text: {text!r}.")
            texts[lang] = text.strip()
        extra = sorted(set(value) - set(LANGUAGES))
        if extra:
            self.problem(where, "unknown_language", f"Unknown languages: {', '.join(extra)}.")
        return texts

    def identifier(self, data: Mapping[str, Any], location: str, seen: set[str]) -> str:
        value = self.string(data, "identifier", location)
        if not value:
            return ""
        try:
            canonical = str(uuid.UUID(value))
        except ValueError:
            self.problem(f"{location}.identifier", "bad_identifier", f"Not a UUID: {value}.")
            return value
        if canonical != value:
            self.problem(f"{location}.identifier", "bad_identifier", "Write UUIDs lower-case.")
        if value in seen:
            self.problem(f"{location}.identifier", "duplicate_identifier", f"{value} repeated.")
        seen.add(value)
        return value

    def code(self, data: Mapping[str, Any], location: str, seen: set[str]) -> str:
        value = self.string(data, "code", location)
        if value and not _CODE.match(value):
            self.problem(f"{location}.code", "bad_code", f"Not a valid code: {value}.")
        if value in seen:
            self.problem(f"{location}.code", "duplicate_code", f"{value} repeated.")
        seen.add(value)
        return value


def _read_domain(
    reader: _Reader,
    path: Path,
    *,
    sequence: int,
    identifiers: set[str],
    codes: set[str],
) -> list[ItemRecord]:
    data = reader.obj(reader.load(path), path.name)
    if not data:
        return []
    where = f"{path.name}:domain"
    domain_data = reader.obj(data.get("domain"), where)
    domain = ItemRecord(
        identifier=reader.identifier(domain_data, where, identifiers),
        code=reader.code(domain_data, where, codes),
        kind="domain",
        statement=reader.texts(domain_data, "statement", where),
        description=reader.texts(domain_data, "description", where),
        keywords=str(domain_data.get("keywords", "")).strip(),
        sequence=sequence,
    )
    items = [domain]
    competencies = data.get("competencies")
    if not isinstance(competencies, list) or not competencies:
        reader.problem(f"{path.name}:competencies", "missing", "Expected a list of competencies.")
        return items
    for index, raw in enumerate(competencies):
        where = f"{path.name}:competencies[{index}]"
        comp = reader.obj(raw, where)
        code = reader.code(comp, where, codes)
        if code and domain.code and not code.startswith(f"{domain.code}."):
            reader.problem(f"{where}.code", "bad_code", f"{code} should start with {domain.code}.")
        raw_indicators = reader.obj(comp.get("indicators"), f"{where}.indicators")
        indicators = {
            level: reader.texts(raw_indicators, level, f"{where}.indicators")
            for level in LEVEL_CODES
        }
        extra = sorted(set(raw_indicators) - set(LEVEL_CODES))
        if extra:
            reader.problem(f"{where}.indicators", "unknown_level", f"Unknown: {extra}.")
        keywords = comp.get("keywords", "")
        if not isinstance(keywords, str) or not keywords.strip():
            reader.problem(f"{where}.keywords", "missing", "Keywords missing.")
            keywords = ""
        items.append(
            ItemRecord(
                identifier=reader.identifier(comp, where, identifiers),
                code=code,
                kind="competency",
                statement=reader.texts(comp, "statement", where),
                description=reader.texts(comp, "description", where),
                keywords=keywords.strip(),
                indicators=indicators,
                parent=domain.identifier,
                sequence=index + 1,
            )
        )
    return items


def _read_profiles(reader: _Reader, path: Path, competencies: set[str]) -> list[ProfileRecord]:
    raw = reader.load(path)
    data = reader.obj(raw, path.name)
    entries = data.get("profiles")
    if not isinstance(entries, list):
        reader.problem(f"{path.name}:profiles", "missing", "Expected a list of profiles.")
        return []
    profiles: list[ProfileRecord] = []
    codes: set[str] = set()
    roles: set[str] = set()
    for index, raw_profile in enumerate(entries):
        where = f"{path.name}:profiles[{index}]"
        entry = reader.obj(raw_profile, where)
        code = reader.code(entry, where, codes)
        role = str(entry.get("role", "")).strip()
        if role:
            if role in roles:
                reader.problem(f"{where}.role", "duplicate_role", f"{role} has two profiles.")
            roles.add(role)
        base = str(entry.get("base", "")).strip()
        requirements: list[RequirementRecord] = []
        seen_items: set[str] = set()
        raw_requirements = entry.get("requirements")
        if not isinstance(raw_requirements, list) or not raw_requirements:
            reader.problem(f"{where}.requirements", "missing", "Expected requirements.")
            raw_requirements = []
        for r_index, raw_req in enumerate(raw_requirements):
            r_where = f"{where}.requirements[{r_index}]"
            req = reader.obj(raw_req, r_where)
            item = str(req.get("item", "")).strip()
            level = str(req.get("level", "")).strip()
            weight = req.get("weight")
            if item not in competencies:
                reader.problem(f"{r_where}.item", "unknown_item", f"No competency {item!r}.")
            if item in seen_items:
                reader.problem(f"{r_where}.item", "duplicate_requirement", f"{item} repeated.")
            seen_items.add(item)
            if level not in REQUIRED_LEVELS:
                reader.problem(f"{r_where}.level", "bad_level", f"Level {level!r} not 1..4.")
            if not isinstance(weight, int) or isinstance(weight, bool) or weight not in WEIGHTS:
                reader.problem(f"{r_where}.weight", "bad_weight", f"Weight {weight!r} not 1..4.")
                weight = 2
            requirements.append(RequirementRecord(item=item, level=level, weight=weight))
        profiles.append(
            ProfileRecord(
                code=code,
                name=reader.texts(entry, "name", where),
                role=role,
                base=base,
                requirements=requirements,
            )
        )
    by_code = {p.code: p for p in profiles}
    for index, profile in enumerate(profiles):
        # Bases come first in the file and the chain of bases has no cycle.
        if profile.base and profile.base not in {p.code for p in profiles[:index]}:
            reader.problem(
                f"{path.name}:profiles[{index}].base",
                "unknown_base",
                f"Base {profile.base!r} is not a profile listed earlier.",
            )
        elif profile.base and not by_code[profile.base].requirements:
            reader.problem(f"{path.name}:profiles[{index}].base", "empty_base", "Empty base.")
    return profiles


def emis_framework_record(data_dir: Path = DATA_DIR) -> FrameworkRecord:
    """The shipped framework as a `FrameworkRecord`; raises `EmisFrameworkError` if broken.

    Pure: reads the JSON files under `data_dir` and nothing else. The record has no scale of
    its own: indicators and requirements use the level codes ("0".."4") of the default
    five-level scale, which every installation has (frameworks migration 0002).
    """
    reader = _Reader()
    head = reader.obj(reader.load(data_dir / "framework.json"), "framework.json")
    identifiers: set[str] = set()
    codes: set[str] = set()
    items: list[ItemRecord] = []
    domain_files = sorted(p for p in data_dir.glob("*.json") if _DOMAIN_FILE.match(p.name))
    if not domain_files:
        reader.problem(str(data_dir), "missing", "No domain files.")
    for sequence, path in enumerate(domain_files, start=1):
        items.extend(
            _read_domain(reader, path, sequence=sequence, identifiers=identifiers, codes=codes)
        )
    competencies = {item.code for item in items if item.kind == "competency"}
    profiles = _read_profiles(reader, data_dir / "profiles.json", competencies)
    record = FrameworkRecord(
        code=reader.string(head, "code", "framework.json"),
        title=reader.texts(head, "title", "framework.json"),
        identifier=reader.identifier(head, "framework.json", identifiers),
        version=reader.string(head, "version", "framework.json"),
        language=reader.string(head, "language", "framework.json"),
        description=reader.texts(head, "description", "framework.json"),
        licence=reader.string(head, "licence", "framework.json"),
        source=str(head.get("source", "")).strip(),
        publisher=reader.string(head, "publisher", "framework.json"),
        status="draft",
        scale=None,
        items=items,
        profiles=profiles,
    )
    if reader.problems:
        raise EmisFrameworkError(reader.problems)
    return record


def _existing(record: FrameworkRecord) -> Framework | None:
    return (
        Framework.objects.filter(identifier=record.identifier).first()
        or Framework.objects.filter(code=record.code, version=record.version).first()
    )


def _ensure_roles(record: FrameworkRecord) -> list[str]:
    """Add the roles the profiles are for that the catalogue lacks; returns their codes.

    Roles already in the catalogue are left exactly as they are.
    """
    from educap.people.models import Role

    wanted = {p.role: p for p in record.profiles if p.role}
    have = set(Role.objects.filter(code__in=wanted).values_list("code", flat=True))
    created = []
    for code, profile in sorted(wanted.items()):
        if code in have:
            continue
        names = {f"name_{lang}": text for lang, text in profile.name.items()}
        Role.objects.create(code=code, name=profile.name["en"], **names)
        created.append(code)
    return created


def emis_framework_install(
    *, actor: User | None = None, publish: bool = True, create_roles: bool = True
) -> Framework:
    """Import the shipped framework (and publish it); a second run changes nothing.

    The import goes through the ordinary framework importer, so it is checked, audited and
    refused for users who may not import frameworks. A version already installed is left as
    it is: published versions never change, and a draft may hold a ministry's own edits; it
    is only published if `publish` asks for it. Role profiles need their roles in the
    catalogue: with `create_roles`, missing ones are added (named after their profile),
    otherwise the import reports them.
    """
    from educap.frameworks.defaults import ensure_default_scale
    from educap.frameworks.importing import framework_import_apply, framework_import_plan

    record = emis_framework_record()
    with transaction.atomic():
        ensure_default_scale()
        framework = _existing(record)
        if framework is None:
            if create_roles:
                _ensure_roles(record)
            plan = framework_import_plan(
                actor=actor, record=record, source="EduCap EMIS staff competency framework"
            )
            if plan.problems:
                raise EmisFrameworkError(list(plan.problems))
            framework = framework_import_apply(actor=actor, plan=plan)
        if publish and framework.status == FrameworkStatus.DRAFT:
            framework = framework_publish(actor=actor, framework=framework)
    return framework

"""1EdTech CASE 1.1 JSON (a CFPackage): parse into a `FrameworkRecord`, serialise one back.

Pure format layer: no database. The tree comes from `isChildOf` associations (origin =
child, destination = parent item or the CFDocument itself), siblings ordered by
`sequenceNumber`; other associations become relations, kept under their CASE type name.
Level descriptors travel as one CFRubric: a criterion per competency, a criterion level
per scale level (`score` = the level's numeric value, `quality` = its name, `description`
= the behavioural indicator).

CASE documents hold one language. The text in the framework's language goes into the
standard fields; the other languages, the EduCap code, the scale and the role profiles go
into CASE 1.1 `extensions` objects under the `"educap"` key, so that an EduCap export
imports back with nothing lost while other CASE consumers simply ignore them.

A fullStatement longer than EduCap's 500-character statement is imported as the item's
abbreviated statement (or a shortened one) with the whole text kept in its description.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _

from educap.frameworks.io.records import (
    LANGUAGES,
    FrameworkRecord,
    ItemRecord,
    LevelRecord,
    ParseResult,
    Problem,
    ProfileRecord,
    RelationRecord,
    RequirementRecord,
    ScaleRecord,
    Texts,
)

__all__ = [
    "EXTENSION_KEY",
    "CaseErrorCode",
    "association_identifier",
    "fallback_uri",
    "package_dict",
    "parse",
    "serialise",
]

# Deterministic identifiers (uuid5) for what EduCap derives: tree associations, rubric parts.
NAMESPACE = uuid.UUID("0f6c2b1e-7d43-5a8e-9c1b-4e2d7a9f3b60")
EXTENSION_KEY = "educap"
CASE_VERSION = "1.1"
STATEMENT_MAX = 500
KEYWORDS_MAX = 300
ITEM_CODE_MAX = 100
SCALE_CODE_MAX = 60

_ADOPTION_OUT = {"draft": "Draft", "published": "Adopted", "retired": "Deprecated"}
_ADOPTION_IN = {
    "draft": "draft",
    "private draft": "draft",
    "adopted": "published",
    "deprecated": "retired",
}
_ITEM_TYPES = {"domain": "Domain", "competency": "Competency"}
_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_NOT_CODE_CHARS = re.compile(r"[^A-Za-z0-9_.\-]+")


class CaseErrorCode(StrEnum):
    """Stable codes for every problem a CASE file can have."""

    FILE_UNREADABLE = "case_file_unreadable"
    FILE_STRUCTURE = "case_file_structure"
    REQUIRED = "case_value_required"
    INVALID_VALUE = "case_invalid_value"
    DUPLICATE_IDENTIFIER = "case_duplicate_identifier"
    DANGLING_ASSOCIATION = "case_dangling_association"
    CYCLE = "case_cycle"
    UNKNOWN_ITEM = "case_unknown_item"
    UNKNOWN_SCORE = "case_unknown_score"


# --------------------------------------------------------------------------- parse


def parse(data: bytes) -> ParseResult:
    """Read a CFPackage. Never raises on bad input: everything wrong is a Problem.

    The caller enforces the size limit before reading the file.
    """
    problems: list[Problem] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _fatal(
            "$",
            CaseErrorCode.FILE_UNREADABLE,
            _("The file is not UTF-8 text (bad byte at position %(position)s).")
            % {"position": exc.start},
        )
    try:
        root = json.loads(text)
    except json.JSONDecodeError as exc:
        return _fatal(
            "$",
            CaseErrorCode.FILE_UNREADABLE,
            _("The file is not valid JSON: %(error)s (line %(line)s, column %(column)s).")
            % {"error": exc.msg, "line": exc.lineno, "column": exc.colno},
        )
    except (ValueError, RecursionError) as exc:
        return _fatal(
            "$",
            CaseErrorCode.FILE_UNREADABLE,
            _("The file is not valid JSON: %(error)s") % {"error": str(exc)[:200]},
        )
    if (
        isinstance(root, dict)
        and "CFDocument" not in root
        and isinstance(root.get("CFPackage"), dict)
    ):
        root = root["CFPackage"]  # some providers wrap the package
    if not isinstance(root, dict):
        return _fatal(
            "$",
            CaseErrorCode.FILE_STRUCTURE,
            _("The file must be a JSON object: a CASE CFPackage."),
        )
    record = _Reader(root, problems).read()
    return ParseResult(record=record, problems=problems)


def _fatal(location: str, code: CaseErrorCode, message: str) -> ParseResult:
    return ParseResult(record=None, problems=[Problem(location, code, message)])


def _language(value: Any, default: str = "en") -> str:
    """ "en-US" -> "en"; anything unusable -> the default."""
    if not isinstance(value, str) or not value.strip():
        return default
    return re.split(r"[-_]", value.strip(), maxsplit=1)[0].lower() or default


def fallback_uri(identifier: str) -> str:
    """The URI written where EduCap knows no better one; parsing drops it again."""
    try:
        return f"urn:uuid:{uuid.UUID(identifier)}"
    except ValueError:
        return f"urn:educap:{identifier}"


@dataclass
class _Item:
    index: int
    path: str
    identifier: str
    statement: Texts
    abbreviated: str
    code_hint: str
    item_type: str
    description: Texts
    keywords: str
    parent: str = ""
    parent_found: bool = False
    sequence: int | None = None
    assoc_path: str = ""
    indicators: dict[str, Texts] = field(default_factory=dict)


class _Reader:
    """One parse of one package; methods add to `problems` and never raise."""

    def __init__(self, root: dict[str, Any], problems: list[Problem]) -> None:
        self.root = root
        self.problems = problems
        self.language = "en"
        self.doc_identifier = ""
        self.doc_uri = ""
        self.items: dict[str, _Item] = {}
        self.relations: list[RelationRecord] = []

    def problem(self, location: str, code: CaseErrorCode, message: str) -> None:
        self.problems.append(Problem(location, code, message))

    # Small typed readers -------------------------------------------------------------
    def text(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str:
        value = obj.get(key)
        if value is None or value == "":
            if required:
                self.problem(
                    f"{path}.{key}",
                    CaseErrorCode.REQUIRED,
                    _("%(field)s is required.") % {"field": key},
                )
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(
                f"{path}.{key}",
                CaseErrorCode.INVALID_VALUE,
                _("%(field)s must be text.") % {"field": key},
            )
            return ""
        return str(value)

    def integer(self, obj: Mapping[str, Any], key: str, path: str) -> int | None:
        value = obj.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(
                f"{path}.{key}",
                CaseErrorCode.INVALID_VALUE,
                _("%(field)s must be a whole number.") % {"field": key},
            )
            return None
        return value

    def link(self, obj: Mapping[str, Any], key: str, path: str) -> tuple[str, str]:
        """(identifier, uri) of a LinkURI; the identifier falls back to the URI's last part."""
        value = obj.get(key)
        if not isinstance(value, dict):
            self.problem(
                f"{path}.{key}",
                CaseErrorCode.REQUIRED,
                _("%(field)s must be an object with an identifier and a uri.") % {"field": key},
            )
            return "", ""
        identifier = self.text(value, "identifier", f"{path}.{key}")
        uri = self.text(value, "uri", f"{path}.{key}")
        if not identifier and uri:
            identifier = uri.rstrip("/").rsplit("/", 1)[-1]
        if not identifier:
            self.problem(
                f"{path}.{key}.identifier",
                CaseErrorCode.REQUIRED,
                _("The link has neither an identifier nor a uri."),
            )
        return identifier, uri

    def extension(self, obj: Mapping[str, Any], path: str) -> dict[str, Any]:
        extensions = obj.get("extensions")
        if not isinstance(extensions, dict):
            return {}
        ours = extensions.get(EXTENSION_KEY)
        if ours is None:
            return {}
        if not isinstance(ours, dict):
            self.problem(
                f"{path}.extensions.{EXTENSION_KEY}",
                CaseErrorCode.INVALID_VALUE,
                _("The EduCap extension must be an object."),
            )
            return {}
        return ours

    def texts_from(self, value: Any, path: str) -> Texts:
        """An extension's {"ar": "...", ...}: other languages of one field."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(
                path, CaseErrorCode.INVALID_VALUE, _("Translations must be a language map.")
            )
            return {}
        texts: Texts = {}
        for lang, text in value.items():
            if isinstance(text, str) and text:
                texts[_language(lang)] = text
            elif text not in (None, ""):
                self.problem(
                    f"{path}.{lang}", CaseErrorCode.INVALID_VALUE, _("A translation must be text.")
                )
        return texts

    def merged(self, main: str, lang: str, others: Any, path: str) -> Texts:
        texts = {k: v for k, v in self.texts_from(others, path).items() if k != lang}
        if main:
            texts[lang] = main
        return texts

    def list_of(self, key: str) -> list[Any]:
        value = self.root.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(
                f"$.{key}",
                CaseErrorCode.FILE_STRUCTURE,
                _("%(field)s must be a list.") % {"field": key},
            )
            return []
        return value

    # The package ---------------------------------------------------------------------
    def read(self) -> FrameworkRecord | None:
        doc = self.root.get("CFDocument")
        if not isinstance(doc, dict):
            self.problem(
                "$.CFDocument",
                CaseErrorCode.FILE_STRUCTURE,
                _("The package has no CFDocument object."),
            )
            return None
        record = self.read_document(doc)
        for index, raw in enumerate(self.list_of("CFItems")):
            self.read_item(index, raw)
        self.read_associations()
        self.check_cycles()
        scale = self.read_rubrics()
        record.scale = scale
        record.items = self.ordered_items()
        record.relations = self.relations
        record.profiles = self.read_profiles()
        return record

    def read_document(self, doc: dict[str, Any]) -> FrameworkRecord:
        path = "$.CFDocument"
        self.doc_identifier = self.text(doc, "identifier", path, required=True)
        self.doc_uri = self.text(doc, "uri", path)
        self.language = _language(doc.get("language"))
        ext = self.extension(doc, path)
        ext_path = f"{path}.extensions.{EXTENSION_KEY}"
        lang = self.language
        title = self.merged(
            self.text(doc, "title", path, required=True),
            lang,
            ext.get("title"),
            f"{ext_path}.title",
        )
        description = self.merged(
            self.text(doc, "description", path),
            lang,
            ext.get("description"),
            f"{ext_path}.description",
        )
        code = ext.get("code") if isinstance(ext.get("code"), str) else ""
        licence = ""
        licence_link = doc.get("licenseURI")
        if isinstance(licence_link, dict):
            licence = self.text(licence_link, "title", f"{path}.licenseURI")
        if not licence:
            definitions = self.root.get("CFDefinitions")
            licences = definitions.get("CFLicenses") if isinstance(definitions, dict) else None
            if isinstance(licences, list) and licences and isinstance(licences[0], dict):
                licence = self.text(licences[0], "title", "$.CFDefinitions.CFLicenses[0]")
        source = ext["source"] if isinstance(ext.get("source"), str) else ""
        if "source" not in ext:
            source = self.text(doc, "officialSourceURL", path)
        status = _ADOPTION_IN.get(self.text(doc, "adoptionStatus", path).strip().lower(), "draft")
        return FrameworkRecord(
            code=code or self.doc_identifier,
            title=title,
            identifier=self.doc_identifier,
            version=self.text(doc, "version", path).strip() or "1.0",
            language=lang,
            description=description,
            licence=licence,
            source=source,
            publisher=self.text(doc, "publisher", path),
            status=status,
        )

    def read_item(self, index: int, raw: Any) -> None:
        path = f"$.CFItems[{index}]"
        if not isinstance(raw, dict):
            self.problem(path, CaseErrorCode.FILE_STRUCTURE, _("A CFItem must be an object."))
            return
        identifier = self.text(raw, "identifier", path, required=True)
        if not identifier:
            return
        if identifier in self.items or identifier == self.doc_identifier:
            self.problem(
                f"{path}.identifier",
                CaseErrorCode.DUPLICATE_IDENTIFIER,
                _("The identifier %(identifier)s is used twice.") % {"identifier": identifier},
            )
            return
        lang = _language(raw.get("language"), self.language)
        ext = self.extension(raw, path)
        ext_path = f"{path}.extensions.{EXTENSION_KEY}"
        statement = self.merged(
            self.text(raw, "fullStatement", path, required=True),
            lang,
            ext.get("fullStatement"),
            f"{ext_path}.fullStatement",
        )
        description = self.merged(
            self.text(raw, "notes", path), lang, ext.get("notes"), f"{ext_path}.notes"
        )
        item_type = self.text(raw, "CFItemType", path)
        type_link = raw.get("CFItemTypeURI")
        if not item_type and isinstance(type_link, dict):
            item_type = self.text(type_link, "title", f"{path}.CFItemTypeURI")
        self.items[identifier] = _Item(
            index=index,
            path=path,
            identifier=identifier,
            statement=statement,
            abbreviated=self.text(raw, "abbreviatedStatement", path),
            code_hint=self.text(raw, "humanCodingScheme", path).strip(),
            item_type=item_type.strip().lower(),
            description=description,
            keywords=self.keywords(raw.get("conceptKeywords"), f"{path}.conceptKeywords"),
        )

    def keywords(self, value: Any, path: str) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            words = [w.strip() for w in value.split(",")]
        elif isinstance(value, list) and all(isinstance(w, str) for w in value):
            words = [w.strip() for w in value]
        else:
            self.problem(
                path, CaseErrorCode.INVALID_VALUE, _("conceptKeywords must be a list of words.")
            )
            return ""
        kept: list[str] = []
        for word in (w for w in words if w):
            if len(", ".join([*kept, word])) > KEYWORDS_MAX:
                break  # EduCap keeps up to 300 characters of keywords
            kept.append(word)
        return ", ".join(kept)

    def read_associations(self) -> None:
        seen: set[str] = set()
        for index, raw in enumerate(self.list_of("CFAssociations")):
            path = f"$.CFAssociations[{index}]"
            if not isinstance(raw, dict):
                self.problem(
                    path, CaseErrorCode.FILE_STRUCTURE, _("A CFAssociation must be an object.")
                )
                continue
            identifier = self.text(raw, "identifier", path, required=True)
            kind = self.text(raw, "associationType", path, required=True).strip()
            origin, _origin_uri = self.link(raw, "originNodeURI", path)
            target, target_uri = self.link(raw, "destinationNodeURI", path)
            sequence = self.integer(raw, "sequenceNumber", path)
            if identifier in seen:
                self.problem(
                    f"{path}.identifier",
                    CaseErrorCode.DUPLICATE_IDENTIFIER,
                    _("The identifier %(identifier)s is used twice.") % {"identifier": identifier},
                )
                continue
            if not identifier or not kind or not origin or not target:
                continue
            seen.add(identifier)
            if origin not in self.items:
                self.problem(
                    f"{path}.originNodeURI",
                    CaseErrorCode.DANGLING_ASSOCIATION,
                    _(
                        "The association starts from %(identifier)s, which is not an item of this "
                        "package."
                    )
                    % {"identifier": origin},
                )
                continue
            child = self.items[origin]
            is_tree = kind.lower() == "ischildof"
            if is_tree and not child.parent_found:
                to_document = target in (self.doc_identifier, self.doc_uri)
                if not to_document and target not in self.items:
                    self.problem(
                        f"{path}.destinationNodeURI",
                        CaseErrorCode.DANGLING_ASSOCIATION,
                        _(
                            "The parent %(identifier)s of item %(item)s is neither an item of this "
                            "package nor its CFDocument."
                        )
                        % {"identifier": target, "item": origin},
                    )
                    continue
                child.parent = "" if to_document else target
                child.parent_found = True
                child.sequence = sequence
                child.assoc_path = path
                continue
            if is_tree and target not in self.items and target != self.doc_identifier:
                self.problem(
                    f"{path}.destinationNodeURI",
                    CaseErrorCode.DANGLING_ASSOCIATION,
                    _("The parent %(identifier)s of item %(item)s is not in this package.")
                    % {"identifier": target, "item": origin},
                )
                continue
            internal = target in self.items
            keep_uri = not internal and target_uri and target_uri != fallback_uri(target)
            self.relations.append(
                RelationRecord(
                    source=origin,
                    kind="isChildOf" if is_tree else kind,
                    target=target,
                    target_uri=target_uri if keep_uri else "",
                    identifier=identifier,
                    sequence=sequence,
                )
            )

    def check_cycles(self) -> None:
        """Report each isChildOf cycle once; its items then go to the top level."""
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        for start in self.items:
            path: list[str] = []
            node = start
            while node and state.get(node) is None:
                state[node] = 1
                path.append(node)
                node = self.items[node].parent
            if node and state.get(node) == 1:
                cycle = path[path.index(node) :]
                first = self.items[cycle[0]]
                self.problem(
                    first.assoc_path or first.path,
                    CaseErrorCode.CYCLE,
                    _("The isChildOf associations go round in a circle: %(items)s.")
                    % {"items": " → ".join([*cycle, cycle[0]])},
                )
                for member in cycle:
                    self.items[member].parent = ""
            for member in path:
                state[member] = 2

    def read_rubrics(self) -> ScaleRecord | None:
        scale: ScaleRecord | None = None
        default_scale = False
        found_levels: dict[int, str] = {}  # value -> quality, from the rubric levels
        found: list[tuple[str, int, Texts, str]] = []  # item, value, texts, path
        first_rubric: dict[str, str] = {}
        for r, rubric in enumerate(self.list_of("CFRubrics")):
            path = f"$.CFRubrics[{r}]"
            if not isinstance(rubric, dict):
                self.problem(path, CaseErrorCode.FILE_STRUCTURE, _("A CFRubric must be an object."))
                continue
            if not first_rubric:
                first_rubric = {
                    "identifier": self.text(rubric, "identifier", path),
                    "title": self.text(rubric, "title", path),
                }
            ext = self.extension(rubric, path)
            if scale is None and "scale" in ext:
                scale = self.scale_from(ext["scale"], f"{path}.extensions.{EXTENSION_KEY}.scale")
            default_scale = default_scale or ext.get("defaultScale") is True
            criteria = rubric.get("CFRubricCriteria") or []
            if not isinstance(criteria, list):
                self.problem(
                    f"{path}.CFRubricCriteria",
                    CaseErrorCode.FILE_STRUCTURE,
                    _("CFRubricCriteria must be a list."),
                )
                continue
            for c, criterion in enumerate(criteria):
                self.read_criterion(criterion, f"{path}.CFRubricCriteria[{c}]", found_levels, found)
        if scale is None and not default_scale and found_levels:
            rubric_id = first_rubric.get("identifier") or "rubric"
            title = first_rubric.get("title") or _("CASE rubric levels")
            scale = ScaleRecord(
                code=_scale_code(rubric_id),
                identifier=rubric_id,
                name={self.language: title},
                levels=[
                    LevelRecord(code=str(value), value=value, name={self.language: quality})
                    for value, quality in sorted(found_levels.items())
                ],
            )
        code_of_value = {level.value: level.code for level in scale.levels} if scale else {}
        for identifier, value, texts, path in found:
            level_code = code_of_value.get(value) if scale is not None else str(value)
            if level_code is None:
                self.problem(
                    path,
                    CaseErrorCode.UNKNOWN_SCORE,
                    _("The score %(score)s is not a level of the framework's scale.")
                    % {"score": value},
                )
                continue
            self.items[identifier].indicators.setdefault(level_code, texts)
        return scale

    def read_criterion(
        self,
        criterion: Any,
        path: str,
        found_levels: dict[int, str],
        found: list[tuple[str, int, Texts, str]],
    ) -> None:
        if not isinstance(criterion, dict):
            self.problem(
                path, CaseErrorCode.FILE_STRUCTURE, _("A CFRubricCriterion must be an object.")
            )
            return
        if isinstance(criterion.get("CFItemURI"), dict):
            identifier, _uri = self.link(criterion, "CFItemURI", path)
        else:
            identifier = self.text(criterion, "CFItemIdentifier", path)
        if not identifier:
            self.problem(
                f"{path}.CFItemURI",
                CaseErrorCode.REQUIRED,
                _("The rubric criterion does not say which item it describes."),
            )
            return
        if identifier not in self.items:
            self.problem(
                f"{path}.CFItemURI",
                CaseErrorCode.UNKNOWN_ITEM,
                _(
                    "The rubric criterion describes %(identifier)s, which is not an item of this "
                    "package."
                )
                % {"identifier": identifier},
            )
            return
        levels = criterion.get("CFRubricCriterionLevels") or []
        if not isinstance(levels, list):
            self.problem(
                f"{path}.CFRubricCriterionLevels",
                CaseErrorCode.FILE_STRUCTURE,
                _("CFRubricCriterionLevels must be a list."),
            )
            return
        for n, level in enumerate(levels):
            level_path = f"{path}.CFRubricCriterionLevels[{n}]"
            if not isinstance(level, dict):
                self.problem(
                    level_path,
                    CaseErrorCode.FILE_STRUCTURE,
                    _("A CFRubricCriterionLevel must be an object."),
                )
                continue
            value = self.level_value(level, level_path)
            if value is None:
                continue
            lang = self.language
            ext = self.extension(level, level_path)
            main = self.text(level, "description", level_path) or self.text(
                level, "feedback", level_path
            )
            texts = self.merged(
                main,
                lang,
                ext.get("description"),
                f"{level_path}.extensions.{EXTENSION_KEY}.description",
            )
            found_levels.setdefault(value, self.text(level, "quality", level_path) or str(value))
            if texts:
                found.append((identifier, value, texts, level_path))

    def level_value(self, level: Mapping[str, Any], path: str) -> int | None:
        """The scale value of a criterion level: its score, else its position."""
        for key in ("score", "position"):
            raw = level.get(key)
            if raw is None or raw == "":
                continue
            number: float | None = None
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                number = float(raw)
            elif isinstance(raw, str):
                try:
                    number = float(raw)
                except ValueError:
                    number = None
            if number is None or not number.is_integer() or not 0 <= number <= 32767:
                self.problem(
                    f"{path}.{key}",
                    CaseErrorCode.INVALID_VALUE,
                    _("The %(field)s must be a whole number from 0 to 32767 to match a level.")
                    % {"field": key},
                )
                return None
            return int(number)
        self.problem(
            path,
            CaseErrorCode.REQUIRED,
            _("The rubric level has neither a score nor a position."),
        )
        return None

    def scale_from(self, raw: Any, path: str) -> ScaleRecord | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("levels"), list):
            self.problem(
                path,
                CaseErrorCode.INVALID_VALUE,
                _("The EduCap scale must be an object with levels."),
            )
            return None
        levels: list[LevelRecord] = []
        for n, level in enumerate(raw["levels"]):
            level_path = f"{path}.levels[{n}]"
            if not isinstance(level, dict):
                self.problem(
                    level_path, CaseErrorCode.INVALID_VALUE, _("A level must be an object.")
                )
                continue
            value = self.integer(level, "value", level_path)
            if value is None:
                self.problem(
                    f"{level_path}.value", CaseErrorCode.REQUIRED, _("The level has no value.")
                )
                continue
            levels.append(
                LevelRecord(
                    code=self.text(level, "code", level_path) or str(value),
                    value=value,
                    name=self.texts_from(level.get("name"), f"{level_path}.name"),
                    descriptor=self.texts_from(level.get("descriptor"), f"{level_path}.descriptor"),
                )
            )
        return ScaleRecord(
            code=self.text(raw, "code", path, required=True),
            identifier=self.text(raw, "identifier", path),
            name=self.texts_from(raw.get("name"), f"{path}.name"),
            description=self.texts_from(raw.get("description"), f"{path}.description"),
            levels=levels,
        )

    def read_profiles(self) -> list[ProfileRecord]:
        ext = self.extension(self.root, "$")
        raw_profiles = ext.get("roleProfiles")
        path = f"$.extensions.{EXTENSION_KEY}.roleProfiles"
        if raw_profiles is None:
            return []
        if not isinstance(raw_profiles, list):
            self.problem(path, CaseErrorCode.INVALID_VALUE, _("roleProfiles must be a list."))
            return []
        profiles: list[ProfileRecord] = []
        for n, raw in enumerate(raw_profiles):
            p_path = f"{path}[{n}]"
            if not isinstance(raw, dict):
                self.problem(p_path, CaseErrorCode.INVALID_VALUE, _("A profile must be an object."))
                continue
            requirements: list[RequirementRecord] = []
            raw_requirements = raw.get("requirements") or []
            if not isinstance(raw_requirements, list):
                self.problem(
                    f"{p_path}.requirements",
                    CaseErrorCode.INVALID_VALUE,
                    _("requirements must be a list."),
                )
                raw_requirements = []
            for m, req in enumerate(raw_requirements):
                r_path = f"{p_path}.requirements[{m}]"
                if not isinstance(req, dict):
                    self.problem(
                        r_path, CaseErrorCode.INVALID_VALUE, _("A requirement must be an object.")
                    )
                    continue
                weight = self.integer(req, "weight", r_path)
                requirements.append(
                    RequirementRecord(
                        item=self.text(req, "item", r_path, required=True),
                        level=self.text(req, "level", r_path, required=True),
                        weight=2 if weight is None else weight,
                    )
                )
            profiles.append(
                ProfileRecord(
                    code=self.text(raw, "code", p_path, required=True),
                    name=self.texts_from(raw.get("name"), f"{p_path}.name"),
                    role=self.text(raw, "role", p_path),
                    base=self.text(raw, "base", p_path),
                    requirements=requirements,
                )
            )
        return profiles

    # Assembling the tree -------------------------------------------------------------
    def ordered_items(self) -> list[ItemRecord]:
        """Items parents first, siblings by sequenceNumber (unnumbered last, file order).

        `sequence` becomes the position among siblings (from 1), so that the order stays
        the same whatever numbering the file used.
        """
        children: dict[str, list[_Item]] = defaultdict(list)
        for item in self.items.values():
            children[item.parent].append(item)
        for siblings in children.values():
            siblings.sort(key=lambda i: (i.sequence is None, i.sequence or 0, i.index))
        codes = self.assign_codes()
        ordered: list[ItemRecord] = []
        stack: list[tuple[_Item, int]] = [
            (item, rank) for rank, item in reversed(list(enumerate(children[""], start=1)))
        ]
        while stack:
            item, rank = stack.pop()
            statement, description = self.fit_statement(item)
            kind = item.item_type if item.item_type in _ITEM_TYPES else ""
            if not kind:
                kind = "domain" if children.get(item.identifier) else "competency"
            ordered.append(
                ItemRecord(
                    identifier=item.identifier,
                    code=codes[item.identifier],
                    kind=kind,
                    statement=statement,
                    parent=item.parent,
                    sequence=rank,
                    description=description,
                    keywords=item.keywords,
                    indicators=item.indicators,
                )
            )
            stack.extend(
                (child, r)
                for r, child in reversed(list(enumerate(children.get(item.identifier, []), 1)))
            )
        return ordered

    def assign_codes(self) -> dict[str, str]:
        """humanCodingScheme when it is a usable, unique code; else something stable."""
        used: set[str] = set()
        codes: dict[str, str] = {}
        for item in sorted(self.items.values(), key=lambda i: i.index):
            hint = item.code_hint
            candidates = [hint, _NOT_CODE_CHARS.sub("-", hint).strip("-._"), item.identifier]
            code = next(
                (
                    c
                    for c in candidates
                    if c and len(c) <= ITEM_CODE_MAX and _CODE_RE.fullmatch(c) and c not in used
                ),
                f"item-{item.index + 1}",
            )
            used.add(code)
            codes[item.identifier] = code
        return codes

    def fit_statement(self, item: _Item) -> tuple[Texts, Texts]:
        """Statements over 500 characters: shortened, with the whole text in the description."""
        statement = dict(item.statement)
        description = dict(item.description)
        for lang, text in item.statement.items():
            if len(text) <= STATEMENT_MAX:
                continue
            short = item.abbreviated if lang == self.language else ""
            statement[lang] = (
                short if short and len(short) <= STATEMENT_MAX else text[: STATEMENT_MAX - 1] + "…"
            )
            notes = description.get(lang, "")
            description[lang] = f"{text}\n\n{notes}" if notes else text
        return statement, description


def _scale_code(identifier: str) -> str:
    cleaned = _NOT_CODE_CHARS.sub("-", identifier).strip("-._") or "rubric"
    return f"case-{cleaned}"[:SCALE_CODE_MAX]


# ------------------------------------------------------------------------ serialise


def serialise(
    record: FrameworkRecord, *, base_uri: str = "", changed_at: dt.datetime | None = None
) -> bytes:
    """The framework as a CASE 1.1 CFPackage, UTF-8 JSON."""
    package = package_dict(record, base_uri=base_uri, changed_at=changed_at)
    return json.dumps(package, ensure_ascii=False, indent=2).encode("utf-8")


def association_identifier(document: str, item: str) -> str:
    """The identifier of the isChildOf association that places `item` in its parent."""
    return _derived(document, "isChildOf", item)


def _derived(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def _texts_except(texts: Mapping[str, str], lang: str) -> dict[str, str]:
    return {k: v for k, v in texts.items() if k != lang and k in LANGUAGES and v}


def _compact(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop optional keys with empty values."""
    return {k: v for k, v in obj.items() if v not in ("", None, [], {})}


class _Writer:
    def __init__(self, record: FrameworkRecord, base_uri: str, changed_at: dt.datetime) -> None:
        self.record = record
        self.base = base_uri.rstrip("/")
        self.when = (
            changed_at.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        )
        self.lang = record.language or "en"
        self.doc_id = record.identifier or _derived("framework", record.code, record.version)
        # Items may be referred to by identifier or code; both lead to the written identifier.
        self.item_id: dict[str, str] = {}
        self.items_by_id: dict[str, ItemRecord] = {}
        for item in record.items:
            identifier = item.identifier or _derived("item", record.code, item.code)
            self.items_by_id[identifier] = item
            if item.code:
                self.item_id.setdefault(item.code, identifier)
        for identifier, item in self.items_by_id.items():
            if item.identifier:
                self.item_id[item.identifier] = identifier

    def uri(self, kind: str, identifier: str) -> str:
        return f"{self.base}/{kind}/{identifier}" if self.base else fallback_uri(identifier)

    def main(self, texts: Mapping[str, str]) -> str:
        return texts.get(self.lang, "")

    def doc_link(self) -> dict[str, str]:
        return {
            "title": self.main(self.record.title) or self.record.code,
            "identifier": self.doc_id,
            "uri": self.uri("CFDocuments", self.doc_id),
        }

    def item_link(self, identifier: str) -> dict[str, str]:
        item = self.items_by_id[identifier]
        return {
            "title": self.main(item.statement) or item.code,
            "identifier": identifier,
            "uri": self.uri("CFItems", identifier),
        }

    def extensions(self, values: dict[str, Any]) -> dict[str, Any]:
        values = _compact(values)
        return {"extensions": {EXTENSION_KEY: values}} if values else {}

    def document(self) -> dict[str, Any]:
        r = self.record
        doc: dict[str, Any] = {
            "identifier": self.doc_id,
            "uri": self.uri("CFDocuments", self.doc_id),
            "CFPackageURI": {
                "title": self.main(r.title) or r.code,
                "identifier": self.doc_id,
                "uri": self.uri("CFPackages", self.doc_id),
            },
            "creator": r.publisher or "EduCap",
            "title": self.main(r.title) or r.code,
            "lastChangeDateTime": self.when,
            "officialSourceURL": r.source if re.match(r"https?://", r.source) else "",
            "publisher": r.publisher,
            "description": self.main(r.description),
            "language": self.lang,
            "version": r.version,
            "adoptionStatus": _ADOPTION_OUT.get(r.status, "Draft"),
            "licenseURI": self.licence_link(),
            "frameworkType": "competency",
            "caseVersion": CASE_VERSION,
        }
        doc = _compact(doc)
        doc.update(
            self.extensions(
                {
                    "code": r.code,
                    "title": _texts_except(r.title, self.lang),
                    "description": _texts_except(r.description, self.lang),
                    # Only where officialSourceURL cannot carry it (not a URL).
                    "source": r.source if "officialSourceURL" not in doc else "",
                }
            )
        )
        return doc

    def licence_id(self) -> str:
        return _derived("licence", self.record.licence)

    def licence_link(self) -> dict[str, str] | None:
        if not self.record.licence:
            return None
        return {
            "title": self.record.licence,
            "identifier": self.licence_id(),
            "uri": self.uri("CFLicenses", self.licence_id()),
        }

    def item(self, identifier: str, item: ItemRecord) -> dict[str, Any]:
        kind = _ITEM_TYPES.get(item.kind, item.kind.title())
        type_id = _derived("itemType", kind)
        obj = _compact(
            {
                "identifier": identifier,
                "uri": self.uri("CFItems", identifier),
                "CFDocumentURI": self.doc_link(),
                "fullStatement": self.main(item.statement),
                "humanCodingScheme": item.code,
                "CFItemType": kind,
                "CFItemTypeURI": {
                    "title": kind,
                    "identifier": type_id,
                    "uri": self.uri("CFItemTypes", type_id),
                },
                "notes": self.main(item.description),
                "conceptKeywords": [w.strip() for w in item.keywords.split(",") if w.strip()],
                "language": self.lang,
                "lastChangeDateTime": self.when,
            }
        )
        obj.update(
            self.extensions(
                {
                    "fullStatement": _texts_except(item.statement, self.lang),
                    "notes": _texts_except(item.description, self.lang),
                }
            )
        )
        return obj

    def parent_id(self, item: ItemRecord) -> str:
        return self.item_id.get(item.parent, "") if item.parent else ""

    def associations(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for identifier, item in self.items_by_id.items():
            parent = self.parent_id(item)
            assoc_id = association_identifier(self.doc_id, identifier)
            out.append(
                {
                    "identifier": assoc_id,
                    "uri": self.uri("CFAssociations", assoc_id),
                    "CFDocumentURI": self.doc_link(),
                    "associationType": "isChildOf",
                    "sequenceNumber": item.sequence,
                    "originNodeURI": self.item_link(identifier),
                    "destinationNodeURI": self.item_link(parent) if parent else self.doc_link(),
                    "lastChangeDateTime": self.when,
                }
            )
        for relation in self.record.relations:
            source = self.item_id.get(relation.source, relation.source)
            target = self.item_id.get(relation.target, relation.target)
            assoc_id = relation.identifier or _derived("relation", source, relation.kind, target)
            if target in self.items_by_id:
                destination = self.item_link(target)
            else:
                destination = {
                    "title": target,
                    "identifier": target,
                    "uri": relation.target_uri or fallback_uri(target),
                }
            assoc = {
                "identifier": assoc_id,
                "uri": self.uri("CFAssociations", assoc_id),
                "CFDocumentURI": self.doc_link(),
                "associationType": relation.kind,
                "sequenceNumber": relation.sequence,
                "originNodeURI": self.item_link(source)
                if source in self.items_by_id
                else {"title": source, "identifier": source, "uri": fallback_uri(source)},
                "destinationNodeURI": destination,
                "lastChangeDateTime": self.when,
            }
            out.append({k: v for k, v in assoc.items() if v is not None})
        return out

    def definitions(self) -> dict[str, Any]:
        kinds = sorted({_ITEM_TYPES.get(i.kind, i.kind.title()) for i in self.record.items})
        item_types = [
            {
                "identifier": _derived("itemType", kind),
                "uri": self.uri("CFItemTypes", _derived("itemType", kind)),
                "title": kind,
                "description": kind,
                "hierarchyCode": kind.lower(),
                "typeCode": kind.lower(),
                "lastChangeDateTime": self.when,
            }
            for kind in kinds
        ]
        licences = []
        if self.record.licence:
            licences.append(
                {
                    "identifier": self.licence_id(),
                    "uri": self.uri("CFLicenses", self.licence_id()),
                    "title": self.record.licence,
                    "licenseText": self.record.licence,
                    "lastChangeDateTime": self.when,
                }
            )
        return {
            "CFConcepts": [],
            "CFSubjects": [],
            "CFLicenses": licences,
            "CFItemTypes": item_types,
            "CFAssociationGroupings": [],
        }

    def rubrics(self) -> list[dict[str, Any]]:
        r = self.record
        scale = r.scale
        if scale is None and not any(i.indicators for i in r.items):
            return []
        levels: list[tuple[str, int, Texts]]
        if scale is not None:
            levels = [(lv.code, lv.value, lv.name) for lv in sorted(scale.levels, key=_value)]
        else:  # the default scale: level codes are its values
            codes = sorted({c for i in r.items for c in i.indicators}, key=_numeric)
            levels = [(c, _numeric(c), {}) for c in codes]
        rubric_id = _derived("rubric", self.doc_id)
        criteria: list[dict[str, Any]] = []
        for identifier, item in self.items_by_id.items():
            if not item.indicators:
                continue
            criterion_id = _derived("criterion", self.doc_id, identifier)
            criterion_levels: list[dict[str, Any]] = []
            for position, (code, value, name) in enumerate(levels, start=1):
                texts = item.indicators.get(code)
                if not texts:
                    continue
                level_id = _derived("criterionLevel", criterion_id, code)
                level = _compact(
                    {
                        "identifier": level_id,
                        "uri": self.uri("CFRubricCriterionLevels", level_id),
                        "description": self.main(texts),
                        "quality": self.main(name) or name.get("en", "") or code,
                        "score": value,
                        "position": position,
                        "criterionId": criterion_id,
                        "lastChangeDateTime": self.when,
                    }
                )
                level.update(self.extensions({"description": _texts_except(texts, self.lang)}))
                criterion_levels.append(level)
            criteria.append(
                {
                    "identifier": criterion_id,
                    "uri": self.uri("CFRubricCriteria", criterion_id),
                    "category": item.code,
                    "description": self.main(item.statement) or item.code,
                    "CFItemURI": self.item_link(identifier),
                    "weight": 1,
                    "position": len(criteria) + 1,
                    "rubricId": rubric_id,
                    "lastChangeDateTime": self.when,
                    "CFRubricCriterionLevels": criterion_levels,
                }
            )
        scale_name = self.main(scale.name) if scale is not None else ""
        rubric: dict[str, Any] = {
            "identifier": rubric_id,
            "uri": self.uri("CFRubrics", rubric_id),
            "title": scale_name or self.main(r.title) or r.code,
            "description": self.main(scale.description) if scale is not None else "",
            "lastChangeDateTime": self.when,
            "CFRubricCriteria": criteria,
        }
        rubric = {k: v for k, v in rubric.items() if v != ""}
        if scale is None:
            rubric["extensions"] = {EXTENSION_KEY: {"defaultScale": True}}
        else:
            rubric["extensions"] = {EXTENSION_KEY: {"scale": _scale_dict(scale)}}
        return [rubric]

    def package(self) -> dict[str, Any]:
        package: dict[str, Any] = {
            "CFDocument": self.document(),
            "CFItems": [self.item(i, item) for i, item in self.items_by_id.items()],
            "CFAssociations": self.associations(),
            "CFDefinitions": self.definitions(),
            "CFRubrics": self.rubrics(),
        }
        profiles = [_profile_dict(p, self.item_id) for p in self.record.profiles]
        if profiles:
            package["extensions"] = {EXTENSION_KEY: {"roleProfiles": profiles}}
        return package


def _value(level: LevelRecord) -> int:
    return level.value


def _numeric(code: str) -> int:
    return int(code) if code.isdigit() else 0


def _scale_dict(scale: ScaleRecord) -> dict[str, Any]:
    head = _compact(
        {
            "code": scale.code,
            "identifier": scale.identifier,
            "name": scale.name,
            "description": scale.description,
        }
    )
    return head | {"levels": [_level_dict(level) for level in sorted(scale.levels, key=_value)]}


def _level_dict(level: LevelRecord) -> dict[str, Any]:
    return {"code": level.code, "value": level.value} | _compact(
        {"name": level.name, "descriptor": level.descriptor}
    )


def _profile_dict(profile: ProfileRecord, item_id: Mapping[str, str]) -> dict[str, Any]:
    return _compact(
        {
            "code": profile.code,
            "name": profile.name,
            "role": profile.role,
            "base": profile.base,
        }
    ) | {
        "requirements": [
            {"item": item_id.get(req.item, req.item), "level": req.level, "weight": req.weight}
            for req in profile.requirements
        ]
    }


def package_dict(
    record: FrameworkRecord, *, base_uri: str = "", changed_at: dt.datetime | None = None
) -> dict[str, Any]:
    """The CFPackage as Python data (the REST binding serves pieces of it).

    `base_uri` is where the CASE REST binding lives (".../ims/case/v1p1"); without it
    every object gets a `urn:` URI made from its identifier.
    """
    when = changed_at or dt.datetime.now(dt.UTC)
    return _Writer(record, base_uri, when).package()

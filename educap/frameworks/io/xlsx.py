"""EduCap's framework spreadsheet (XLSX): the template people fill in, and the export.

Sheets (names are matched without regard to case; other sheets are ignored):

- `framework`: one `field | value` row per field: code, identifier, title_<lang>, version,
  language, licence, source, publisher, description_<lang>, scale_code, scale_identifier,
  scale_name_<lang>, scale_description_<lang>. A third column may hold notes.
- `levels`: code, value, name_<lang>, descriptor_<lang>. Empty: the framework uses EduCap's
  default scale, and level codes elsewhere are checked against it on import, not here.
- `competencies`: code, parent_code, kind (domain or competency; empty: domain if it has
  children), statement_<lang>, description_<lang>, keywords, indicator_<level>_<lang> (for
  example indicator_2_en), identifier (empty: a UUID derived from the codes). Rows may come
  in any order; siblings keep the order of their rows.
- `requirements` (optional): profile_code, profile_name_<lang>, role_code, base_profile_code,
  competency_code, level_code, weight (1, 2, 3 or critical; empty: 2). One row per required
  competency; a profile without requirements has one row with competency_code empty.
- `relations` (optional): source_code, kind, target (a competency code or an outside
  identifier), target_uri, identifier, sequence.
- `how to fill`: help in English, ignored when reading.

Pure parse/serialise; `importing.py` decides what to store. `Problem.location` is the cell
(`competencies!C7`), the sheet, or "" for the whole file. `ParseResult.record` is None
whenever there is a problem. Formula cells are refused. Export puts `'` in front of text that
a spreadsheet would run as a formula (= + - @), and reading removes exactly that `'`. Excel
stores line breaks as LF only, so CR LF in text is written as LF. The status of a framework is
not carried: an import always makes a draft.
"""

from __future__ import annotations

import io
import itertools
import re
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
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
from educap.org.io.units_csv import protect_cell, unprotect_cell

__all__ = [
    "COMPETENCY_COLUMNS",
    "FRAMEWORK_FIELDS",
    "LEVEL_COLUMNS",
    "RELATION_COLUMNS",
    "REQUIREMENT_COLUMNS",
    "XlsxErrorCode",
    "blank_template",
    "parse",
    "serialise",
]


def _per_language(name: str) -> tuple[str, ...]:
    return tuple(f"{name}_{lang}" for lang in LANGUAGES)


FRAMEWORK_FIELDS: tuple[str, ...] = (
    "code",
    "identifier",
    *_per_language("title"),
    "version",
    "language",
    "licence",
    "source",
    "publisher",
    *_per_language("description"),
    "scale_code",
    "scale_identifier",
    *_per_language("scale_name"),
    *_per_language("scale_description"),
)
LEVEL_COLUMNS: tuple[str, ...] = (
    "code",
    "value",
    *_per_language("name"),
    *_per_language("descriptor"),
)
COMPETENCY_COLUMNS: tuple[str, ...] = (
    "code",
    "parent_code",
    "kind",
    *_per_language("statement"),
    *_per_language("description"),
    "keywords",
    # indicator_<level code>_<language> columns come here, one per level and language.
    "identifier",
)
REQUIREMENT_COLUMNS: tuple[str, ...] = (
    "profile_code",
    *_per_language("profile_name"),
    "role_code",
    "base_profile_code",
    "competency_code",
    "level_code",
    "weight",
)
RELATION_COLUMNS: tuple[str, ...] = (
    "source_code",
    "kind",
    "target",
    "target_uri",
    "identifier",
    "sequence",
)
KINDS = ("domain", "competency")
WEIGHTS = {"1": 1, "2": 2, "3": 3, "4": 4, "critical": 4}
HELP_SHEET = "how to fill"

# Limits of the models (models.py), so that the file check and the database agree.
_LIMITS = {
    "framework_code": 100,
    "identifier": 100,
    "title": 300,
    "version": 40,
    "language": 8,
    "licence": 300,
    "source": 300,
    "publisher": 300,
    "scale_code": 60,
    "scale_name": 200,
    "level_code": 40,
    "level_name": 120,
    "item_code": 100,
    "statement": 500,
    "keywords": 300,
    "profile_code": 60,
    "profile_name": 200,
    "role_code": 60,
    "relation_kind": 100,
    "target": 300,
    "target_uri": 500,
}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_INDICATOR = re.compile(r"^indicator_(?P<level>.+)_(?P<lang>[a-z]{2,3})$")
_ANY_CASE_INDICATOR = re.compile(r"^indicator_(?P<level>.+)_(?P<lang>[a-z]{2,3})$", re.IGNORECASE)
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://educap.invalid/framework-spreadsheet")
_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
_VALIDATION_ROWS = 2000
_TEXT_COLUMNS = frozenset(
    {
        "value",  # the framework sheet's values (version "1.10"); not the levels sheet's
        "code",
        "parent_code",
        "identifier",
        "profile_code",
        "role_code",
        "base_profile_code",
        "competency_code",
        "level_code",
        "source_code",
        "target",
    }
)


class XlsxErrorCode(StrEnum):
    UNREADABLE = "unreadable_file"
    MISSING_SHEET = "missing_sheet"
    MISSING_COLUMN = "missing_column"
    UNKNOWN_COLUMN = "unknown_column"
    DUPLICATE_COLUMN = "duplicate_column"
    UNKNOWN_FIELD = "unknown_field"
    DUPLICATE_FIELD = "duplicate_field"
    FORMULA = "formula_cell"
    ERROR_VALUE = "error_cell"
    REQUIRED = "required"
    INVALID_CODE = "invalid_code"
    INVALID_VALUE = "invalid_value"
    TOO_LONG = "too_long"
    DUPLICATE_CODE = "duplicate_code"
    UNKNOWN_PARENT = "unknown_parent"
    CYCLE = "cycle"
    UNKNOWN_LEVEL = "unknown_level"
    UNKNOWN_COMPETENCY = "unknown_competency"
    UNKNOWN_PROFILE = "unknown_profile"
    CONFLICT = "conflicting_value"


Code = XlsxErrorCode


# ------------------------------------------------------------------------------ reading


def _cell_location(sheet: str, row: int, column: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{sheet}!{get_column_letter(column + 1)}{row}"


def _header_name(value: Any) -> str:
    text = "" if value is None else str(value)
    name = "_".join(text.replace("\ufeff", "").split())
    indicator = _ANY_CASE_INDICATOR.match(name)
    if indicator:  # level codes keep their case: "A" and "a" are different levels
        return f"indicator_{indicator['level']}_{indicator['lang'].lower()}"
    return name.lower()


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return unprotect_cell(str(value).strip())


@dataclass
class _Row:
    """One sheet row: the cells by column name, with where each came from."""

    sheet: str
    number: int
    values: dict[str, str]
    positions: dict[str, int]

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def where(self, name: str) -> str:
        return _cell_location(self.sheet, self.number, self.positions.get(name, 0))

    def texts(self, prefix: str) -> Texts:
        return {lang: text for lang in LANGUAGES if (text := self.get(f"{prefix}_{lang}"))}


@dataclass
class _Sheet:
    title: str
    header: list[str]
    positions: dict[str, int]
    rows: list[_Row] = field(default_factory=list)


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, location: str, code: Code, message: str, column: str = "") -> None:
        self.problems.append(Problem(location=location, code=code, message=message, column=column))

    def too_long(self, row: _Row, name: str, limit_key: str, text: str | None = None) -> None:
        text = row.get(name) if text is None else text
        limit = _LIMITS[limit_key]
        if len(text) > limit:
            self.problem(
                row.where(name),
                Code.TOO_LONG,
                _("The value has %(length)s characters; at most %(limit)s are allowed.")
                % {"length": len(text), "limit": limit},
                name,
            )

    def required(self, row: _Row, name: str, message: str) -> bool:
        if row.get(name):
            return True
        self.problem(row.where(name), Code.REQUIRED, message, name)
        return False

    def code(self, row: _Row, name: str, limit_key: str) -> bool:
        value = row.get(name)
        if value and not _CODE.match(value):
            self.problem(
                row.where(name),
                Code.INVALID_CODE,
                _(
                    "%(value)s is not a valid code: use letters, digits, dot, dash or"
                    " underscore, starting with a letter or digit."
                )
                % {"value": value},
                name,
            )
            return False
        before = len(self.problems)
        self.too_long(row, name, limit_key)
        return len(self.problems) == before

    def texts_too_long(self, row: _Row, prefix: str, limit_key: str) -> None:
        for lang in LANGUAGES:
            self.too_long(row, f"{prefix}_{lang}", limit_key)

    # -- sheets

    def read_sheet(
        self,
        title: str,
        rows: Iterable[Sequence[Any]],
        known: Sequence[str],
        required: Sequence[str],
        *,
        extra: re.Pattern[str] | None = None,
    ) -> _Sheet | None:
        iterator = iter(rows)
        header_cells = next(iterator, None)
        header = [_header_name(getattr(cell, "value", None)) for cell in header_cells or ()]
        positions: dict[str, int] = {}
        ok = True
        for position, name in enumerate(header):
            if not name:
                continue
            if name in positions:
                self.problem(
                    _cell_location(title, 1, position),
                    Code.DUPLICATE_COLUMN,
                    _("The column %(column)s appears more than once.") % {"column": name},
                    name,
                )
                ok = False
            elif name not in known and not (extra and extra.match(name)):
                self.problem(
                    _cell_location(title, 1, position),
                    Code.UNKNOWN_COLUMN,
                    _("Unknown column %(column)s. Expected columns: %(expected)s.")
                    % {"column": name, "expected": ", ".join(known)},
                    name,
                )
                ok = False
            else:
                positions[name] = position
        for name in required:
            if name not in positions:
                self.problem(
                    title,
                    Code.MISSING_COLUMN,
                    _("The sheet %(sheet)s has no %(column)s column.")
                    % {"sheet": title, "column": name},
                    name,
                )
                ok = False
        if not ok:
            return None
        sheet = _Sheet(title=title, header=header, positions=positions)
        for number, cells in enumerate(iterator, start=2):
            values: dict[str, str] = {}
            for name, position in positions.items():
                cell = cells[position] if position < len(cells) else None
                values[name] = self.cell_text(title, number, position, cell)
            if any(values.values()):
                sheet.rows.append(_Row(title, number, values, positions))
        return sheet

    def cell_text(self, title: str, number: int, position: int, cell: Any) -> str:
        if cell is None:
            return ""
        data_type = getattr(cell, "data_type", None)
        if data_type == "f":
            self.problem(
                _cell_location(title, number, position),
                Code.FORMULA,
                _("The cell holds a formula; type the value itself instead."),
            )
            return ""
        if data_type == "e":
            self.problem(
                _cell_location(title, number, position),
                Code.ERROR_VALUE,
                _("The cell holds the error value %(value)s.") % {"value": cell.value},
            )
            return ""
        return _text_of(getattr(cell, "value", None))


def _item_identifier(framework_code: str, code: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{framework_code}\n{code}"))


def _workbook_sheets(data: bytes) -> tuple[Any, dict[str, Any]] | None:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # A small file that inflates to gigabytes is an attack, not a framework.
            if sum(info.file_size for info in archive.infolist()) > _MAX_UNCOMPRESSED_BYTES:
                return None
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:
        return None
    return workbook, {name.strip().lower(): workbook[name] for name in workbook.sheetnames}


def _rows_of(sheet: Any) -> Iterator[Sequence[Any]]:
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()  # some programs write a wrong sheet size
    yield from sheet.iter_rows()


def parse(data: bytes) -> ParseResult:
    """Read a framework spreadsheet. Never raises on bad input."""
    unreadable = ParseResult(
        None,
        [
            Problem(
                location="",
                code=Code.UNREADABLE,
                message=_("The file is not an Excel workbook (.xlsx) that can be read."),
            )
        ],
    )
    opened = _workbook_sheets(data)
    if opened is None:
        return unreadable
    workbook, sheets = opened
    try:
        return _parse_sheets(sheets)
    except Exception:  # openpyxl raises many kinds of errors on damaged parts
        return unreadable
    finally:
        workbook.close()


def _parse_sheets(sheets: dict[str, Any]) -> ParseResult:
    reader = _Reader()
    for required in ("framework", "competencies"):
        if required not in sheets:
            reader.problem(
                "",
                Code.MISSING_SHEET,
                _("The workbook has no %(sheet)s sheet.") % {"sheet": required},
            )
    if reader.problems:
        return ParseResult(None, reader.problems)

    framework = _read_framework(reader, _rows_of(sheets["framework"]))
    levels = None
    if "levels" in sheets:
        levels = reader.read_sheet("levels", _rows_of(sheets["levels"]), LEVEL_COLUMNS, ("code",))
    scale_levels = _read_levels(reader, levels) if levels is not None else []
    level_codes = {level.code for level in scale_levels} if scale_levels else None

    competencies = reader.read_sheet(
        "competencies",
        _rows_of(sheets["competencies"]),
        COMPETENCY_COLUMNS,
        ("code",),
        extra=_INDICATOR,
    )
    code = framework.get("code", "")
    items: list[ItemRecord] = []
    identifier_of: dict[str, str] = {}
    if competencies is not None:
        items, identifier_of = _read_competencies(reader, competencies, code, level_codes)

    profiles: list[ProfileRecord] = []
    if "requirements" in sheets:
        sheet = reader.read_sheet(
            "requirements",
            _rows_of(sheets["requirements"]),
            REQUIREMENT_COLUMNS,
            ("profile_code",),
        )
        if sheet is not None:
            profiles = _read_requirements(reader, sheet, identifier_of, level_codes)

    relations: list[RelationRecord] = []
    if "relations" in sheets:
        sheet = reader.read_sheet(
            "relations", _rows_of(sheets["relations"]), RELATION_COLUMNS, ("source_code", "kind")
        )
        if sheet is not None:
            relations = _read_relations(reader, sheet, identifier_of)

    if reader.problems:
        return ParseResult(None, reader.problems)
    language = framework.get("language") or "en"
    scale = None
    if scale_levels:
        scale = ScaleRecord(
            code=framework.get("scale_code") or f"{code[:53]}-scale",
            name=_texts(framework, "scale_name") or {language: f"{code} scale"},
            levels=scale_levels,
            identifier=framework.get("scale_identifier", ""),
            description=_texts(framework, "scale_description"),
        )
    record = FrameworkRecord(
        code=code,
        title=_texts(framework, "title"),
        identifier=framework.get("identifier", ""),
        version=framework.get("version") or "1.0",
        language=language,
        description=_texts(framework, "description"),
        licence=framework.get("licence", ""),
        source=framework.get("source", ""),
        publisher=framework.get("publisher", ""),
        scale=scale,
        items=items,
        relations=relations,
        profiles=profiles,
    )
    return ParseResult(record, [])


def _texts(values: dict[str, str], prefix: str) -> Texts:
    return {lang: text for lang in LANGUAGES if (text := values.get(f"{prefix}_{lang}", ""))}


def _read_framework(reader: _Reader, rows: Iterator[Sequence[Any]]) -> dict[str, str]:
    """The `field | value` rows; reports unknown, repeated and missing fields."""
    title = "framework"
    values: dict[str, str] = {}
    where: dict[str, str] = {}
    first = next(rows, None)
    header_cell = first[0] if first else None
    has_header = _header_name(getattr(header_cell, "value", None)) == "field"
    if first is not None and not has_header:
        rows = itertools.chain([first], rows)
    for number, cells in enumerate(rows, start=2 if has_header else 1):
        key_cell = cells[0] if cells else None
        value_cell = cells[1] if len(cells) > 1 else None
        key = _header_name(reader.cell_text(title, number, 0, key_cell))
        value = reader.cell_text(title, number, 1, value_cell)
        if not key:
            continue
        location = _cell_location(title, number, 0)
        if key not in FRAMEWORK_FIELDS:
            reader.problem(
                location,
                Code.UNKNOWN_FIELD,
                _("Unknown field %(field)s. Expected fields: %(expected)s.")
                % {"field": key, "expected": ", ".join(FRAMEWORK_FIELDS)},
                key,
            )
        elif key in values:
            reader.problem(
                location,
                Code.DUPLICATE_FIELD,
                _("The field %(field)s is already given on %(first)s.")
                % {"field": key, "first": where[key]},
                key,
            )
        else:
            values[key] = value
            where[key] = _cell_location(title, number, 1)

    def at(name: str) -> str:
        return where.get(name, title)

    code = values.get("code", "")
    if not code:
        reader.problem(at("code"), Code.REQUIRED, _("The framework has no code."), "code")
    elif not _CODE.match(code) or len(code) > _LIMITS["framework_code"]:
        reader.problem(
            at("code"),
            Code.INVALID_CODE,
            _(
                "%(value)s is not a valid code: up to %(limit)s letters, digits, dots, dashes"
                " or underscores, starting with a letter or digit."
            )
            % {"value": code, "limit": _LIMITS["framework_code"]},
            "code",
        )
    if not _texts(values, "title"):
        reader.problem(
            at("title_en"),
            Code.REQUIRED,
            _("The framework has no title (title_en, title_ar, title_fr or title_lo)."),
            "title_en",
        )
    language = values.get("language", "")
    if language and language not in LANGUAGES:
        reader.problem(
            at("language"),
            Code.INVALID_VALUE,
            _("%(value)s is not a language EduCap knows; use one of %(languages)s.")
            % {"value": language, "languages": ", ".join(LANGUAGES)},
            "language",
        )
    scale_code = values.get("scale_code", "")
    if scale_code and (not _CODE.match(scale_code) or len(scale_code) > _LIMITS["scale_code"]):
        reader.problem(
            at("scale_code"),
            Code.INVALID_CODE,
            _("%(value)s is not a valid scale code (up to %(limit)s letters, digits, . - _).")
            % {"value": scale_code, "limit": _LIMITS["scale_code"]},
            "scale_code",
        )
    limits = {
        "identifier": "identifier",
        "version": "version",
        "licence": "licence",
        "source": "source",
        "publisher": "publisher",
        "scale_identifier": "identifier",
        **{f"title_{lang}": "title" for lang in LANGUAGES},
        **{f"scale_name_{lang}": "scale_name" for lang in LANGUAGES},
    }
    for name, limit_key in limits.items():
        text = values.get(name, "")
        if len(text) > _LIMITS[limit_key]:
            reader.problem(
                at(name),
                Code.TOO_LONG,
                _("The value has %(length)s characters; at most %(limit)s are allowed.")
                % {"length": len(text), "limit": _LIMITS[limit_key]},
                name,
            )
    return values


def _read_levels(reader: _Reader, sheet: _Sheet) -> list[LevelRecord]:
    levels: list[LevelRecord] = []
    first_code: dict[str, str] = {}
    first_value: dict[int, str] = {}
    for row in sheet.rows:
        before = len(reader.problems)
        code = row.get("code")
        if reader.required(row, "code", _("The level has no code.")):
            reader.too_long(row, "code", "level_code")
            if code in first_code:
                reader.problem(
                    row.where("code"),
                    Code.DUPLICATE_CODE,
                    _("The level code %(code)s is already used on %(first)s.")
                    % {"code": code, "first": first_code[code]},
                    "code",
                )
            else:
                first_code[code] = row.where("code")
        value: int | None = None
        if reader.required(row, "value", _("The level has no numeric value.")):
            text = row.get("value")
            if text.isdigit() and text.isascii() and int(text) <= 32767:
                value = int(text)
                if value in first_value:
                    reader.problem(
                        row.where("value"),
                        Code.DUPLICATE_CODE,
                        _("The value %(value)s is already used on %(first)s.")
                        % {"value": value, "first": first_value[value]},
                        "value",
                    )
                else:
                    first_value[value] = row.where("value")
            else:
                reader.problem(
                    row.where("value"),
                    Code.INVALID_VALUE,
                    _("%(value)s is not a level value; use a whole number from 0, such as 2.")
                    % {"value": text},
                    "value",
                )
        names = row.texts("name")
        if not names:
            reader.problem(
                row.where("name_en"),
                Code.REQUIRED,
                _("The level has no name (name_en, name_ar, name_fr or name_lo)."),
                "name_en",
            )
        reader.texts_too_long(row, "name", "level_name")
        if len(reader.problems) == before and value is not None:
            levels.append(
                LevelRecord(code=code, value=value, name=names, descriptor=row.texts("descriptor"))
            )
    return sorted(levels, key=lambda level: level.value)


def _read_competencies(
    reader: _Reader, sheet: _Sheet, framework_code: str, level_codes: set[str] | None
) -> tuple[list[ItemRecord], dict[str, str]]:
    """Items parents first (siblings in row order), and item identifiers by code."""
    indicator_columns: list[tuple[str, str, str]] = []  # (column, level code, language)
    for name, position in sheet.positions.items():
        match = _INDICATOR.match(name)
        if not match:
            continue
        level, lang = match["level"], match["lang"]
        if lang not in LANGUAGES:
            reader.problem(
                _cell_location(sheet.title, 1, position),
                Code.UNKNOWN_COLUMN,
                _("%(column)s: %(language)s is not one of the languages %(languages)s.")
                % {"column": name, "language": lang, "languages": ", ".join(LANGUAGES)},
                name,
            )
        elif level_codes is not None and level not in level_codes:
            reader.problem(
                _cell_location(sheet.title, 1, position),
                Code.UNKNOWN_LEVEL,
                _("%(column)s: there is no level with the code %(level)s on the levels sheet.")
                % {"column": name, "level": level},
                name,
            )
        else:
            indicator_columns.append((name, level, lang))

    rows_by_code: dict[str, _Row] = {}
    identifiers: dict[str, str] = {}
    first_identifier: dict[str, str] = {}
    good: list[_Row] = []
    for row in sheet.rows:
        before = len(reader.problems)
        code = row.get("code")
        if reader.required(row, "code", _("The competency has no code.")) and reader.code(
            row, "code", "item_code"
        ):
            if code in rows_by_code:
                reader.problem(
                    row.where("code"),
                    Code.DUPLICATE_CODE,
                    _("The code %(code)s is already used on %(first)s.")
                    % {"code": code, "first": rows_by_code[code].where("code")},
                    "code",
                )
            else:
                rows_by_code[code] = row
        kind = row.get("kind").lower()
        if kind and kind not in KINDS:
            reader.problem(
                row.where("kind"),
                Code.INVALID_VALUE,
                _("%(value)s is not a kind; use domain or competency.")
                % {"value": row.get("kind")},
                "kind",
            )
        if not row.texts("statement"):
            reader.problem(
                row.where("statement_en"),
                Code.REQUIRED,
                _("The competency has no statement (statement_en, _ar, _fr or _lo)."),
                "statement_en",
            )
        reader.texts_too_long(row, "statement", "statement")
        reader.too_long(row, "keywords", "keywords")
        identifier = row.get("identifier")
        if identifier:
            reader.too_long(row, "identifier", "identifier")
            if identifier in first_identifier:
                reader.problem(
                    row.where("identifier"),
                    Code.DUPLICATE_CODE,
                    _("The identifier %(identifier)s is already used on %(first)s.")
                    % {"identifier": identifier, "first": first_identifier[identifier]},
                    "identifier",
                )
            else:
                first_identifier[identifier] = row.where("identifier")
        if len(reader.problems) == before:
            identifiers[code] = identifier or _item_identifier(framework_code, code)
            good.append(row)

    # Parents: known, not the row itself, no cycles.
    parent_of: dict[str, str] = {}
    for row in good:
        code, parent = row.get("code"), row.get("parent_code")
        if not parent:
            continue
        if parent == code:
            reader.problem(
                row.where("parent_code"),
                Code.CYCLE,
                _("The competency %(code)s cannot be its own parent.") % {"code": code},
                "parent_code",
            )
        elif parent not in rows_by_code:
            reader.problem(
                row.where("parent_code"),
                Code.UNKNOWN_PARENT,
                _("There is no competency with the code %(parent)s on this sheet.")
                % {"parent": parent},
                "parent_code",
            )
        else:
            parent_of[code] = parent
    settled: set[str] = set()
    for row in good:
        path: list[str] = []
        current: str | None = row.get("code")
        while current is not None and current not in settled:
            if current in path:
                cycle = path[path.index(current) :]
                reader.problem(
                    rows_by_code[cycle[0]].where("parent_code"),
                    Code.CYCLE,
                    _("The competencies %(codes)s are each other's ancestors.")
                    % {"codes": ", ".join(cycle)},
                    "parent_code",
                )
                break
            path.append(current)
            current = parent_of.get(current)
        settled.update(path)
    if reader.problems:
        return [], identifiers

    children: dict[str, list[_Row]] = {}
    for row in good:
        children.setdefault(row.get("parent_code"), []).append(row)
    items: list[ItemRecord] = []

    def visit(parent: str) -> None:
        for sequence, row in enumerate(children.get(parent, []), start=1):
            code = row.get("code")
            kind = row.get("kind").lower() or ("domain" if code in children else "competency")
            indicators: dict[str, Texts] = {}
            for name, level, lang in indicator_columns:
                if text := row.get(name):
                    indicators.setdefault(level, {})[lang] = text
            items.append(
                ItemRecord(
                    identifier=identifiers[code],
                    code=code,
                    kind=kind,
                    statement=row.texts("statement"),
                    parent=identifiers[parent] if parent else "",
                    sequence=sequence,
                    description=row.texts("description"),
                    keywords=row.get("keywords"),
                    indicators=indicators,
                )
            )
            visit(code)

    visit("")
    return items, identifiers


def _read_requirements(
    reader: _Reader,
    sheet: _Sheet,
    identifier_of: dict[str, str],
    level_codes: set[str] | None,
) -> list[ProfileRecord]:
    profiles: dict[str, ProfileRecord] = {}
    first_row: dict[str, _Row] = {}
    seen: dict[tuple[str, str], str] = {}
    for row in sheet.rows:
        code = row.get("profile_code")
        if not reader.required(row, "profile_code", _("The row has no profile code.")):
            continue
        if not reader.code(row, "profile_code", "profile_code"):
            continue
        reader.texts_too_long(row, "profile_name", "profile_name")
        reader.too_long(row, "role_code", "role_code")
        profile = profiles.get(code)
        if profile is None:
            profile = profiles[code] = ProfileRecord(
                code=code,
                name=row.texts("profile_name"),
                role=row.get("role_code"),
                base=row.get("base_profile_code"),
            )
            first_row[code] = row
        else:
            # Later rows may repeat the profile's name, role and base, or leave them empty.
            for name, known in (
                *((f"profile_name_{lang}", profile.name.get(lang, "")) for lang in LANGUAGES),
                ("role_code", profile.role),
                ("base_profile_code", profile.base),
            ):
                value = row.get(name)
                if value and known and value != known:
                    reader.problem(
                        row.where(name),
                        Code.CONFLICT,
                        _("%(value)s differs from %(known)s given for this profile on %(first)s.")
                        % {"value": value, "known": known, "first": first_row[code].where(name)},
                        name,
                    )
                elif value and not known:
                    if name.startswith("profile_name_"):
                        profile.name[name.removeprefix("profile_name_")] = value
                    elif name == "role_code":
                        profile.role = value
                    else:
                        profile.base = value
        competency = row.get("competency_code")
        level = row.get("level_code")
        weight_text = row.get("weight").lower()
        if not competency:
            if level or weight_text:
                reader.problem(
                    row.where("competency_code"),
                    Code.REQUIRED,
                    _("The row gives a level or weight but no competency code."),
                    "competency_code",
                )
            continue
        ok = True
        if competency not in identifier_of:
            reader.problem(
                row.where("competency_code"),
                Code.UNKNOWN_COMPETENCY,
                _("There is no competency with the code %(code)s on the competencies sheet.")
                % {"code": competency},
                "competency_code",
            )
            ok = False
        elif (code, competency) in seen:
            reader.problem(
                row.where("competency_code"),
                Code.DUPLICATE_CODE,
                _("The profile %(profile)s already requires %(code)s on %(first)s.")
                % {"profile": code, "code": competency, "first": seen[(code, competency)]},
                "competency_code",
            )
            ok = False
        else:
            seen[(code, competency)] = row.where("competency_code")
        if not reader.required(row, "level_code", _("The requirement has no level code.")):
            ok = False
        elif level_codes is not None and level not in level_codes:
            reader.problem(
                row.where("level_code"),
                Code.UNKNOWN_LEVEL,
                _("There is no level with the code %(level)s on the levels sheet.")
                % {"level": level},
                "level_code",
            )
            ok = False
        weight = WEIGHTS.get(weight_text or "2")
        if weight is None:
            reader.problem(
                row.where("weight"),
                Code.INVALID_VALUE,
                _("%(value)s is not a weight; use 1, 2, 3 or critical.") % {"value": weight_text},
                "weight",
            )
            ok = False
        if ok and weight is not None:
            profile.requirements.append(
                RequirementRecord(item=identifier_of[competency], level=level, weight=weight)
            )
    for code, profile in profiles.items():
        row = first_row[code]
        if not profile.name:
            reader.problem(
                row.where("profile_name_en"),
                Code.REQUIRED,
                _("The profile %(profile)s has no name on any of its rows.") % {"profile": code},
                "profile_name_en",
            )
        if profile.base and profile.base not in profiles:
            reader.problem(
                row.where("base_profile_code"),
                Code.UNKNOWN_PROFILE,
                _("There is no profile with the code %(profile)s on this sheet.")
                % {"profile": profile.base},
                "base_profile_code",
            )
    for code in profiles:  # a profile may not inherit from itself, however far up
        seen_codes = [code]
        base = profiles[code].base
        while base in profiles and base not in seen_codes:
            seen_codes.append(base)
            base = profiles[base].base
        if base == code:
            reader.problem(
                first_row[code].where("base_profile_code"),
                Code.CYCLE,
                _("The profiles %(profiles)s inherit from each other.")
                % {"profiles": ", ".join(seen_codes)},
                "base_profile_code",
            )
    return list(profiles.values())


def _read_relations(
    reader: _Reader, sheet: _Sheet, identifier_of: dict[str, str]
) -> list[RelationRecord]:
    relations: list[RelationRecord] = []
    for row in sheet.rows:
        before = len(reader.problems)
        source = row.get("source_code")
        if reader.required(row, "source_code", _("The relation has no source code.")) and (
            source not in identifier_of
        ):
            reader.problem(
                row.where("source_code"),
                Code.UNKNOWN_COMPETENCY,
                _("There is no competency with the code %(code)s on the competencies sheet.")
                % {"code": source},
                "source_code",
            )
        reader.required(row, "kind", _("The relation has no kind (for example isRelatedTo)."))
        reader.too_long(row, "kind", "relation_kind")
        target, uri = row.get("target"), row.get("target_uri")
        if not target and not uri:
            reader.problem(
                row.where("target"),
                Code.REQUIRED,
                _("The relation has neither a target nor a target URI."),
                "target",
            )
        reader.too_long(row, "target", "target")
        reader.too_long(row, "target_uri", "target_uri")
        reader.too_long(row, "identifier", "identifier")
        sequence_text = row.get("sequence")
        sequence: int | None = None
        if sequence_text:
            if sequence_text.isdigit() and sequence_text.isascii():
                sequence = int(sequence_text)
            else:
                reader.problem(
                    row.where("sequence"),
                    Code.INVALID_VALUE,
                    _("%(value)s is not a whole number.") % {"value": sequence_text},
                    "sequence",
                )
        if len(reader.problems) == before:
            relations.append(
                RelationRecord(
                    source=identifier_of[source],
                    kind=row.get("kind"),
                    target=identifier_of.get(target, target),
                    target_uri=uri,
                    identifier=row.get("identifier"),
                    sequence=sequence,
                )
            )
    return relations


# ------------------------------------------------------------------------------ writing

_HELP = (
    "How to fill this workbook",
    "",
    "framework: one field per row. Write the value in column B. code and at least one title"
    " are required; language is en, ar, fr or lo.",
    "levels: the proficiency scale, lowest first. code and value (a whole number) are"
    " required; name and descriptor in as many languages as you have. Leave the sheet empty"
    " to use EduCap's default scale (0 None to 4 Expert).",
    "competencies: one row per domain or competency. code is required and must be unique"
    " (letters, digits, dot, dash, underscore). parent_code is the code of the domain or"
    " competency it belongs to; leave it empty at the top. kind is domain or competency.",
    "Write at least one statement. keywords are separated by commas.",
    "indicator_<level>_<language> columns hold what the competency looks like at that level,"
    " for example indicator_2_en. Add a column for each level and language you need.",
    "identifier: leave empty for new rows; EduCap fills it when it exports.",
    "requirements: one row per competency a role profile needs. profile_code and a profile"
    " name on the first row of each profile; role_code is the role in EduCap's catalogue;"
    " base_profile_code names a profile it inherits. level_code is a code from the levels"
    " sheet; weight is 1, 2, 3 or critical (empty means 2).",
    "relations (optional): links between competencies, for example isRelatedTo or"
    " replacedBy. target is a competency code or an outside identifier.",
    "Do not use formulas: type values. Text that starts with = + - or @ is saved with a '"
    " in front so that spreadsheets do not run it; EduCap removes that ' when importing.",
)


def _clean_text(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _cell(value: str | int | None) -> str | int | None:
    if isinstance(value, str):
        return protect_cell(_clean_text(value)) if value else None
    return value


def _header_row(
    sheet: Any,
    names: Sequence[str],
    widths: dict[str, int] | None = None,
    *,
    text_columns: Iterable[str] = _TEXT_COLUMNS,
) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet.append(list(names))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for position, name in enumerate(names, start=1):
        cell = sheet.cell(row=1, column=position)
        cell.font = bold
        cell.fill = fill
        width = (widths or {}).get(name)
        if width is None:
            width = 40 if name.startswith(("statement", "description", "indicator")) else 16
        dimension = sheet.column_dimensions[get_column_letter(position)]
        dimension.width = width
        if name in text_columns:  # typed codes stay text: "1.10" must not become 1.1
            dimension.number_format = "@"
    sheet.freeze_panes = "A2"


def _list_validation(sheet: Any, column: int, formula: str, prompt: str) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    letter = get_column_letter(column)
    validation = DataValidation(type="list", formula1=formula, allow_blank=True)
    validation.error = prompt
    validation.errorTitle = "EduCap"
    validation.showErrorMessage = True
    sheet.add_data_validation(validation)
    validation.add(f"{letter}2:{letter}{_VALIDATION_ROWS}")


def _indicator_columns(record: FrameworkRecord | None, scale: ScaleRecord | None) -> list[str]:
    level_codes: list[str] = []
    if scale is not None:
        level_codes = [level.code for level in sorted(scale.levels, key=lambda lv: lv.value)]
    if record is not None:  # indicators for levels the scale does not list are kept too
        for item in record.items:
            for level in item.indicators:
                if level not in level_codes:
                    level_codes.append(level)
    return [f"indicator_{level}_{lang}" for level in level_codes for lang in LANGUAGES]


def _ordered_items(record: FrameworkRecord) -> list[ItemRecord]:
    """Parents first, siblings by sequence; items whose parent is missing go to the top."""
    known = {item.identifier for item in record.items}
    children: dict[str, list[tuple[int, ItemRecord]]] = {}
    for position, item in enumerate(record.items):
        parent = item.parent if item.parent in known and item.parent != item.identifier else ""
        children.setdefault(parent, []).append((position, item))
    ordered: list[ItemRecord] = []
    done: set[str] = set()

    def visit(parent: str) -> None:
        for _position, item in sorted(
            children.get(parent, []), key=lambda pair: (pair[1].sequence, pair[0])
        ):
            if item.identifier not in done:
                done.add(item.identifier)
                ordered.append(item)
                visit(item.identifier)

    visit("")
    return ordered


def _workbook_bytes(record: FrameworkRecord | None, scale: ScaleRecord | None) -> bytes:
    import openpyxl
    from openpyxl.styles import Alignment, Font

    workbook = openpyxl.Workbook()
    help_sheet = workbook.active
    assert help_sheet is not None
    help_sheet.title = HELP_SHEET
    for line in _HELP:
        help_sheet.append([line])
    help_sheet["A1"].font = Font(bold=True, size=14)
    help_sheet.column_dimensions["A"].width = 120
    for row in help_sheet.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")

    # framework: field | value | notes
    sheet = workbook.create_sheet("framework")
    _header_row(sheet, ("field", "value", "notes"), {"field": 22, "value": 60, "notes": 50})
    values: dict[str, str] = {}
    if record is not None:
        values = {
            "code": record.code,
            "identifier": record.identifier,
            "version": record.version,
            "language": record.language,
            "licence": record.licence,
            "source": record.source,
            "publisher": record.publisher,
            **{f"title_{lang}": text for lang, text in record.title.items()},
            **{f"description_{lang}": text for lang, text in record.description.items()},
        }
    if scale is not None:
        values |= {
            "scale_code": scale.code,
            "scale_identifier": scale.identifier,
            **{f"scale_name_{lang}": text for lang, text in scale.name.items()},
            **{f"scale_description_{lang}": text for lang, text in scale.description.items()},
        }
    notes = {
        "code": "Required. Letters, digits, dot, dash, underscore.",
        "title_en": "At least one title is required.",
        "language": "en, ar, fr or lo: the framework's own language.",
        "version": "For example 1.0",
    }
    for name in FRAMEWORK_FIELDS:
        sheet.append([name, _cell(values.get(name, "")), notes.get(name)])

    # levels
    sheet = workbook.create_sheet("levels")
    _header_row(sheet, LEVEL_COLUMNS, text_columns=("code",))
    levels = sorted(scale.levels, key=lambda level: level.value) if scale is not None else []
    for level in levels:
        sheet.append(
            [
                _cell(level.code),
                level.value,
                *(_cell(level.name.get(lang, "")) for lang in LANGUAGES),
                *(_cell(level.descriptor.get(lang, "")) for lang in LANGUAGES),
            ]
        )

    # competencies
    sheet = workbook.create_sheet("competencies")
    indicator_columns = _indicator_columns(record, scale)
    columns = [*COMPETENCY_COLUMNS[:-1], *indicator_columns, COMPETENCY_COLUMNS[-1]]
    _header_row(sheet, columns, {"identifier": 38})
    items = _ordered_items(record) if record is not None else []
    code_of = {item.identifier: item.code for item in items}
    for item in items:
        sheet.append(
            [
                _cell(item.code),
                _cell(code_of.get(item.parent, "")),
                _cell(item.kind),
                *(_cell(item.statement.get(lang, "")) for lang in LANGUAGES),
                *(_cell(item.description.get(lang, "")) for lang in LANGUAGES),
                _cell(item.keywords),
                *(
                    _cell(item.indicators.get(level, {}).get(lang, ""))
                    for level, lang in (_indicator_parts(column) for column in indicator_columns)
                ),
                _cell(item.identifier),
            ]
        )
    _list_validation(sheet, 3, '"' + ",".join(KINDS) + '"', "Use domain or competency.")
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap

    # requirements
    sheet = workbook.create_sheet("requirements")
    _header_row(sheet, REQUIREMENT_COLUMNS)
    item_code = {item.identifier: item.code for item in record.items} if record else {}
    item_code |= {item.code: item.code for item in record.items} if record else {}
    for profile in record.profiles if record is not None else []:
        head = [
            _cell(profile.code),
            *(_cell(profile.name.get(lang, "")) for lang in LANGUAGES),
            _cell(profile.role),
            _cell(profile.base),
        ]
        if not profile.requirements:
            sheet.append([*head, None, None, None])
        for requirement in profile.requirements:
            weight: str | int = "critical" if requirement.weight == 4 else requirement.weight
            sheet.append(
                [
                    *head,
                    _cell(item_code.get(requirement.item, requirement.item)),
                    _cell(requirement.level),
                    weight,
                ]
            )
    weight_column = REQUIREMENT_COLUMNS.index("weight") + 1
    _list_validation(sheet, weight_column, '"1,2,3,critical"', "Use 1, 2, 3 or critical.")
    level_column = REQUIREMENT_COLUMNS.index("level_code") + 1
    _list_validation(
        sheet, level_column, "levels!$A$2:$A$200", "Use a level code from the levels sheet."
    )

    # relations
    sheet = workbook.create_sheet("relations")
    _header_row(sheet, RELATION_COLUMNS)
    for relation in record.relations if record is not None else []:
        sheet.append(
            [
                _cell(code_of.get(relation.source, relation.source)),
                _cell(relation.kind),
                _cell(code_of.get(relation.target, relation.target)),
                _cell(relation.target_uri),
                _cell(relation.identifier),
                relation.sequence,
            ]
        )

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _indicator_parts(column: str) -> tuple[str, str]:
    match = _INDICATOR.match(column)
    assert match is not None
    return match["level"], match["lang"]


def serialise(record: FrameworkRecord) -> bytes:
    """The framework as EduCap's spreadsheet, ready to edit and import again."""
    return _workbook_bytes(record, record.scale)


def blank_template(*, scale: ScaleRecord | None = None) -> bytes:
    """The empty template; with `scale`, its levels and indicator columns are filled in."""
    return _workbook_bytes(None, scale)

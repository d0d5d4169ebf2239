"""Org units as CSV: `code,name,level,parent_code` plus optional translated names and ids.

Pure parse/serialise. Row numbers are the ones a spreadsheet shows: the header is
row 1, the first unit row 2.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from educap.org.io.records import (
    NAME_LANGUAGES,
    OrgImportErrorCode,
    ParseResult,
    Problem,
    UnitRecord,
    decode_text,
)

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

__all__ = [
    "EXPORT_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ParseResult",
    "Problem",
    "UnitRecord",
    "parse_units_csv",
    "protect_cell",
    "units_csv_text",
    "unprotect_cell",
    "write_units_csv",
]

REQUIRED_COLUMNS = ("code", "name", "level", "parent_code")
OPTIONAL_COLUMNS = (*(f"name_{lang}" for lang in NAME_LANGUAGES), "external_id")
EXPORT_COLUMNS = ("code", "name", "level", "parent_code", "external_id")

# Spreadsheets run cells starting with these as formulas (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def protect_cell(value: str) -> str:
    """Prefix `'` to a cell a spreadsheet would treat as a formula.

    A cell that already starts with `'` followed by a formula character or another
    `'` is prefixed too, so `unprotect_cell` gives back exactly the original text.
    """
    if value.startswith(_FORMULA_START) or (
        len(value) > 1 and value[0] == "'" and value[1] in (*_FORMULA_START, "'")
    ):
        return "'" + value
    return value


def unprotect_cell(value: str) -> str:
    """Undo `protect_cell` (also strips the `'` a spreadsheet user typed before `=`)."""
    if len(value) > 1 and value[0] == "'" and value[1] in (*_FORMULA_START, "'"):
        return value[1:]
    return value


def _problem(row: int, column: str, code: OrgImportErrorCode, message: str) -> Problem:
    return Problem(row=row, column=column, code=code, message=message)


def _read_header(
    header: list[str],
) -> tuple[dict[str, int], list[Problem]]:
    names = [cell.strip().removeprefix("\ufeff").strip().lower() for cell in header]
    index: dict[str, int] = {}
    problems: list[Problem] = []
    for position, name in enumerate(names):
        if not name:
            continue
        if name in index:
            problems.append(
                _problem(
                    1,
                    name,
                    OrgImportErrorCode.DUPLICATE_COLUMN,
                    _("The column %(column)s appears more than once in the header.")
                    % {"column": name},
                )
            )
            continue
        index[name] = position
    for name in REQUIRED_COLUMNS:
        if name not in index:
            problems.append(
                _problem(
                    1,
                    name,
                    OrgImportErrorCode.MISSING_COLUMN,
                    _("The header has no %(column)s column.") % {"column": name},
                )
            )
    return index, problems


def parse_units_csv(data: bytes | str) -> ParseResult:
    """Read units from CSV text or UTF-8 bytes (with or without a byte-order mark).

    Never raises on bad input: every defect becomes a `Problem`, and a row with a
    problem yields no record.
    """
    try:
        text = decode_text(data)
    except UnicodeDecodeError as exc:
        return ParseResult(
            [],
            [
                _problem(
                    0,
                    "",
                    OrgImportErrorCode.FILE_UNREADABLE,
                    _("The file is not UTF-8 text (bad byte at position %(position)s).")
                    % {"position": exc.start},
                )
            ],
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[UnitRecord] = []
    problems: list[Problem] = []
    row_number = 0
    index: dict[str, int] = {}
    width = 0
    first_row_of_code: dict[str, int] = {}
    first_row_of_external_id: dict[str, int] = {}
    try:
        for cells in reader:
            row_number += 1
            if row_number == 1:
                index, header_problems = _read_header(cells)
                width = len(cells)
                if header_problems:
                    return ParseResult([], header_problems)
                continue
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, often at the end of a hand-edited file
            record = _read_row(
                row_number,
                cells,
                index,
                width,
                problems,
                first_row_of_code,
                first_row_of_external_id,
            )
            if record is not None:
                records.append(record)
    except csv.Error as exc:
        problems.append(
            _problem(
                row_number + 1,
                "",
                OrgImportErrorCode.FILE_UNREADABLE,
                _("The CSV text cannot be read from here on: %(error)s") % {"error": str(exc)},
            )
        )
    if row_number == 0:
        problems.append(_problem(0, "", OrgImportErrorCode.FILE_EMPTY, _("The file is empty.")))
    elif not records and not problems:
        problems.append(
            _problem(0, "", OrgImportErrorCode.FILE_EMPTY, _("The file has no unit rows."))
        )
    return ParseResult(records, problems)


def _read_row(
    row: int,
    cells: list[str],
    index: dict[str, int],
    width: int,
    problems: list[Problem],
    first_row_of_code: dict[str, int],
    first_row_of_external_id: dict[str, int],
) -> UnitRecord | None:
    if len(cells) > width:
        if any(cell.strip() for cell in cells[width:]):
            problems.append(
                _problem(
                    row,
                    "",
                    OrgImportErrorCode.TOO_MANY_CELLS,
                    _("The row has %(cells)s cells but the header only %(columns)s.")
                    % {"cells": len(cells), "columns": width},
                )
            )
            return None
    elif len(cells) < width:
        cells = cells + [""] * (width - len(cells))
    values = {column: unprotect_cell(cells[position].strip()) for column, position in index.items()}
    get = values.get
    code, name, level = get("code", ""), get("name", ""), get("level", "")
    parent, external_id = get("parent_code", ""), get("external_id", "")
    ok = bool(code and name and level)
    if not code:
        problems.append(
            _problem(row, "code", OrgImportErrorCode.REQUIRED, _("The unit has no code."))
        )
    if not name:
        problems.append(
            _problem(row, "name", OrgImportErrorCode.REQUIRED, _("The unit has no name."))
        )
    if not level:
        problems.append(
            _problem(row, "level", OrgImportErrorCode.REQUIRED, _("The unit has no level."))
        )
    if code and code in first_row_of_code:
        problems.append(
            _problem(
                row,
                "code",
                OrgImportErrorCode.DUPLICATE_CODE,
                _("The code %(code)s is already used on row %(first_row)s.")
                % {"code": code, "first_row": first_row_of_code[code]},
            )
        )
        ok = False
    elif code:
        first_row_of_code[code] = row
    if external_id and external_id in first_row_of_external_id:
        problems.append(
            _problem(
                row,
                "external_id",
                OrgImportErrorCode.DUPLICATE_EXTERNAL_ID,
                _("The external id %(external_id)s is already used on row %(first_row)s.")
                % {"external_id": external_id, "first_row": first_row_of_external_id[external_id]},
            )
        )
        ok = False
    elif external_id:
        first_row_of_external_id[external_id] = row
    if code and parent == code:
        problems.append(
            _problem(
                row,
                "parent_code",
                OrgImportErrorCode.CYCLE,
                _("The unit %(code)s cannot be its own parent.") % {"code": code},
            )
        )
        ok = False
    if not ok:
        return None
    names = {lang: value for lang in NAME_LANGUAGES if (value := get(f"name_{lang}"))}
    return UnitRecord(
        row=row,
        code=code,
        name=name,
        names=names,
        level_code=level,
        parent_code=parent,
        external_id=external_id,
    )


def write_units_csv(
    records: Iterable[UnitRecord],
    out: SupportsWrite[str],
    *,
    name_languages: Sequence[str] = (),
) -> int:
    """Write a header and one row per record; returns the number of unit rows.

    Columns are `code,name,level,parent_code,external_id`, with `name_<lang>` columns
    after `name` for each of `name_languages`. Every cell is formula-protected.
    """
    writer = csv.writer(out)
    writer.writerow(
        ["code", "name", *(f"name_{lang}" for lang in name_languages), *EXPORT_COLUMNS[2:]]
    )
    count = 0
    for record in records:
        writer.writerow(
            [
                protect_cell(value)
                for value in (
                    record.code,
                    record.name,
                    *(record.names.get(lang, "") for lang in name_languages),
                    record.level_code,
                    record.parent_code,
                    record.external_id,
                )
            ]
        )
        count += 1
    return count


def units_csv_text(records: Iterable[UnitRecord], *, name_languages: Sequence[str] = ()) -> str:
    buffer = io.StringIO(newline="")
    write_units_csv(records, buffer, name_languages=name_languages)
    return buffer.getvalue()

"""Gap exports as CSV: one row per person x competency, or per unit x competency.

Pure serialise/parse: callers hand in rows (see `educap.gaps.exporting`) and decide where
they go. Lines are produced one at a time so that a national export streams.
Cells a partner viewer may not see (fewer people than the threshold) are written as
`<5` (the threshold) and read back as suppressed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

PERSON_COLUMNS = (
    "person_id",
    "staff_number",
    "unit_code",
    "role_code",
    "sex",
    "competency_code",
    "required",
    "current",
    "gap",
)
UNIT_COLUMNS = (
    "unit_code",
    "level_code",
    "competency_code",
    "in_scope",
    "assessed",
    "meeting",
    "below",
    "unknown",
    "mean_gap",
    "weighted_gap_index",
)
COUNT_COLUMNS = ("in_scope", "assessed", "meeting", "below", "unknown")
# Ratios are written with this many decimals: enough to tell 0.3333 from 0.3, short to read.
DECIMALS = 4
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class GapCsvError(ValueError):
    """A file that is not a gap export (wrong header or a malformed cell)."""


@dataclass(frozen=True, slots=True)
class PersonGapRow:
    person_id: int
    staff_number: str
    unit_code: str
    role_code: str
    sex: str
    competency_code: str
    required: int
    current: int | None  # None: no valid current level (unknown)

    @property
    def gap(self) -> int | None:
        return None if self.current is None else max(0, self.required - self.current)


@dataclass(frozen=True, slots=True)
class UnitGapRow:
    unit_code: str
    level_code: str
    competency_code: str
    # None everywhere when the cell is suppressed for a partner viewer.
    in_scope: int | None
    assessed: int | None
    meeting: int | None
    below: int | None
    unknown: int | None
    mean_gap: float | None  # None: nobody assessed (or suppressed)
    weighted_gap_index: float | None
    suppressed: bool = False


def round_ratio(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def _escape(text: str) -> str:
    """Stop spreadsheet programs from running a cell as a formula.

    A leading quote is doubled too, so that reading strips exactly one and gets the text back.
    """
    return "'" + text if text.startswith((*_FORMULA_TRIGGERS, "'")) else text


def _unescape(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def _number(value: int | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # Fixed decimals without trailing zeros: 0.5, 0.3333, 1.
        return f"{round(value, DECIMALS):.{DECIMALS}f}".rstrip("0").rstrip(".")
    return str(value)


def _person_cells(row: PersonGapRow) -> list[str]:
    return [
        str(row.person_id),
        _escape(row.staff_number),
        _escape(row.unit_code),
        _escape(row.role_code),
        _escape(row.sex),
        _escape(row.competency_code),
        str(row.required),
        _number(row.current),
        _number(row.gap),
    ]


def _unit_cells(row: UnitGapRow, small_cell: int) -> list[str]:
    codes = [_escape(row.unit_code), _escape(row.level_code), _escape(row.competency_code)]
    if row.suppressed:
        return [*codes, *[f"<{small_cell}"] * len(COUNT_COLUMNS), "", ""]
    counts = [row.in_scope, row.assessed, row.meeting, row.below, row.unknown]
    return [*codes, *map(_number, counts), _number(row.mean_gap), _number(row.weighted_gap_index)]


class _Line:
    """A write-only file object that hands back what csv.writer wrote."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def _lines(header: Iterable[str], rows: Iterable[list[str]], bom: bool) -> Iterator[str]:
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    writer.writerow(header)
    yield ("\ufeff" if bom else "") + line.text
    for cells in rows:
        writer.writerow(cells)
        yield line.text


def iter_person_csv(rows: Iterable[PersonGapRow], *, bom: bool = True) -> Iterator[str]:
    """CSV lines, header first."""
    return _lines(PERSON_COLUMNS, (_person_cells(r) for r in rows), bom)


def iter_unit_csv(
    rows: Iterable[UnitGapRow], *, bom: bool = True, small_cell: int = 5
) -> Iterator[str]:
    """CSV lines, header first; suppressed cells read `<small_cell`."""
    return _lines(UNIT_COLUMNS, (_unit_cells(r, small_cell) for r in rows), bom)


def write_lines(lines: Iterator[str], out: IO[str]) -> int:
    """Write lines (header first) to a text stream; returns the number of data rows."""
    out.write(next(lines))
    count = 0
    for line in lines:
        out.write(line)
        count += 1
    return count


# --------------------------------------------------------------------------- parsing


def _reader(text: str, columns: tuple[str, ...]) -> Iterator[dict[str, str]]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(reader, None)
    if header is None or tuple(header) != columns:
        raise GapCsvError(f"Expected the columns {', '.join(columns)}.")
    for number, cells in enumerate(reader, start=2):
        if len(cells) != len(columns):
            raise GapCsvError(f"Row {number}: expected {len(columns)} cells, found {len(cells)}.")
        yield dict(zip(columns, cells, strict=True))


def _int(text: str, row: dict[str, Any]) -> int | None:
    if text == "":
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise GapCsvError(f"Not a whole number: {text!r} in {row}.") from exc


def _float(text: str) -> float | None:
    if text == "":
        return None
    try:
        return float(text)
    except ValueError as exc:
        raise GapCsvError(f"Not a number: {text!r}.") from exc


def parse_person_csv(text: str) -> Iterator[PersonGapRow]:
    """Rows of a person-level export (the `gap` column is checked, not stored)."""
    for cells in _reader(text, PERSON_COLUMNS):
        person_id = _int(cells["person_id"], cells)
        required = _int(cells["required"], cells)
        if person_id is None or required is None:
            raise GapCsvError(f"person_id and required are mandatory: {cells}.")
        row = PersonGapRow(
            person_id=person_id,
            staff_number=_unescape(cells["staff_number"]),
            unit_code=_unescape(cells["unit_code"]),
            role_code=_unescape(cells["role_code"]),
            sex=_unescape(cells["sex"]),
            competency_code=_unescape(cells["competency_code"]),
            required=required,
            current=_int(cells["current"], cells),
        )
        if _int(cells["gap"], cells) != row.gap:
            raise GapCsvError(f"The gap does not follow from required and current: {cells}.")
        yield row


def parse_unit_csv(text: str) -> Iterator[UnitGapRow]:
    """Rows of a unit-level export; `<n` cells come back as suppressed rows."""
    for cells in _reader(text, UNIT_COLUMNS):
        unit_code, level_code, competency_code = (
            _unescape(cells[name]) for name in ("unit_code", "level_code", "competency_code")
        )
        if cells["in_scope"].startswith("<"):
            yield UnitGapRow(
                unit_code, level_code, competency_code, None, None, None, None, None, None, None,
                suppressed=True,
            )  # fmt: skip
            continue
        yield UnitGapRow(
            unit_code=unit_code,
            level_code=level_code,
            competency_code=competency_code,
            in_scope=_int(cells["in_scope"], cells),
            assessed=_int(cells["assessed"], cells),
            meeting=_int(cells["meeting"], cells),
            below=_int(cells["below"], cells),
            unknown=_int(cells["unknown"], cells),
            mean_gap=_float(cells["mean_gap"]),
            weighted_gap_index=_float(cells["weighted_gap_index"]),
        )

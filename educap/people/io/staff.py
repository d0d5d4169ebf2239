"""Staff list as CSV or XLSX: parse into records and problems, serialise records back.

Pure format layer: no database access. The import service decides what to store.
Row numbers are the ones a spreadsheet shows: the header is row 1, the first person row 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any, cast

from django.db import models
from django.utils.translation import gettext as _

from educap.org.models import code_validator
from educap.people.models import Person, Sex

COLUMNS: tuple[str, ...] = (
    "staff_number",
    "given_name",
    "family_name",
    "name_local",
    "sex",
    "national_id",
    "birth_year",
    "hire_date",
    "email",
    "phone",
    "unit_code",
    "role_code",
    "supervisor_staff_number",
    "start_date",
    "active",
)
REQUIRED_COLUMNS: frozenset[str] = frozenset(
    {"staff_number", "given_name", "family_name", "sex", "unit_code", "role_code"}
)
OPTIONAL_COLUMNS: frozenset[str] = frozenset(COLUMNS) - REQUIRED_COLUMNS
ALL_COLUMNS: frozenset[str] = frozenset(COLUMNS)

# Cells starting with these are run as formulas by spreadsheet programs. The apostrophe is
# escaped too, so that parsing an exported file gives back exactly what was exported.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")

_SEX_WORDS: dict[str, str] = {  # casefolded word -> Sex value
    "f": Sex.FEMALE.value,
    "female": Sex.FEMALE.value,
    "femme": Sex.FEMALE.value,
    "féminin": Sex.FEMALE.value,
    "feminin": Sex.FEMALE.value,
    "أنثى": Sex.FEMALE.value,
    "انثى": Sex.FEMALE.value,
    "ຍິງ": Sex.FEMALE.value,
    "m": Sex.MALE.value,
    "male": Sex.MALE.value,
    "h": Sex.MALE.value,
    "homme": Sex.MALE.value,
    "masculin": Sex.MALE.value,
    "ذكر": Sex.MALE.value,
    "ຊາຍ": Sex.MALE.value,
}
_TRUE_WORDS = frozenset({"1", "yes", "y", "true", "active", "oui", "نعم", "ແມ່ນ"})
_FALSE_WORDS = frozenset({"0", "no", "n", "false", "inactive", "non", "لا", "ບໍ່"})
_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_DATE_COLUMNS = frozenset({"hire_date", "start_date"})
# Text limits come from the model so that the file check and the database agree.
_PERSON_TEXT_FIELDS = (
    "staff_number",
    "given_name",
    "family_name",
    "name_local",
    "national_id",
    "email",
    "phone",
)
_CODE_MAX_LENGTH = 60
_MAX_XLSX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024

Progress = Callable[[int], None]


class StaffFileErrorCode(StrEnum):
    UNREADABLE = "unreadable_file"
    NOT_UTF8 = "not_utf8"
    EMPTY = "empty_file"
    MISSING_COLUMN = "missing_column"
    UNKNOWN_COLUMN = "unknown_column"
    DUPLICATE_COLUMN = "duplicate_column"
    REQUIRED = "required"
    INVALID_STAFF_NUMBER = "invalid_staff_number"
    INVALID_SEX = "invalid_sex"
    INVALID_DATE = "invalid_date"
    INVALID_YEAR = "invalid_year"
    INVALID_BOOLEAN = "invalid_boolean"
    INVALID_TEXT = "invalid_text"
    TOO_LONG = "too_long"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the file. Row 0 means the file as a whole."""

    row: int
    column: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """One staff row, cleaned and typed.

    `columns` lists the optional columns the file had: an absent column leaves the stored
    value alone, a blank cell in a present column clears it.
    """

    staff_number: str
    given_name: str
    family_name: str
    sex: str
    unit_code: str
    role_code: str
    name_local: str = ""
    national_id: str = ""
    birth_year: int | None = None
    hire_date: dt.date | None = None
    email: str = ""
    phone: str = ""
    supervisor_staff_number: str = ""
    start_date: dt.date | None = None
    active: bool = True
    row: int = field(default=0, compare=False)
    columns: frozenset[str] = field(default=ALL_COLUMNS, compare=False, repr=False)


@dataclass
class StaffFile:
    records: list[StaffRecord]
    problems: list[Problem]
    columns: frozenset[str]


# ---------------------------------------------------------------------------- parsing


def _max_lengths() -> dict[str, int]:
    lengths = {}
    for name in _PERSON_TEXT_FIELDS:
        model_field = Person._meta.get_field(name)
        assert isinstance(model_field, models.CharField)
        assert model_field.max_length
        lengths[name] = model_field.max_length
    lengths["supervisor_staff_number"] = lengths["staff_number"]
    lengths["unit_code"] = _CODE_MAX_LENGTH
    lengths["role_code"] = _CODE_MAX_LENGTH
    return lengths


def _header_name(value: Any) -> str:
    text = "" if value is None else str(value)
    return " ".join(text.replace("\ufeff", "").split()).lower().replace(" ", "_")


def _unescape(text: str) -> str:
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_TRIGGERS:
        return text[1:]
    return text


def _cell_text(value: Any) -> str:
    """A cell as trimmed NFC text; XLSX numbers that are whole come back without '.0'."""
    if value.__class__ is str:  # every CSV cell: the fast path
        text: str = value.strip()
        if text[:1] == "'":
            text = _unescape(text)
        if not text.isascii() and not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        return text
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _cell_text(str(value))


# Unicode category Cc (C0, DEL, C1) and lone surrogates.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The pattern of org.models.code_validator, compiled once: calling the validator per row is slow.
_STAFF_NUMBER = re.compile(cast("re.Pattern[str]", code_validator.regex).pattern)


def _has_control_characters(text: str) -> bool:
    return _CONTROL_CHARACTERS.search(text) is not None


class _RowParser:
    def __init__(self, header: Sequence[Any]) -> None:
        self.problems: list[Problem] = []
        self.positions: dict[str, int] = {}
        self.lengths = _max_lengths()
        for index, raw in enumerate(header):
            name = _header_name(raw)
            if not name:
                continue
            if name in self.positions:
                self._problem(
                    1,
                    name,
                    StaffFileErrorCode.DUPLICATE_COLUMN,
                    _("The column %(column)s appears more than once."),
                    column=name,
                )
            elif name not in ALL_COLUMNS:
                self._problem(
                    1,
                    name,
                    StaffFileErrorCode.UNKNOWN_COLUMN,
                    _("Unknown column %(column)s. Expected columns: %(expected)s."),
                    column=name,
                    expected=", ".join(COLUMNS),
                )
            else:
                self.positions[name] = index
        for name in COLUMNS:
            if name in REQUIRED_COLUMNS and name not in self.positions:
                self._problem(
                    1,
                    name,
                    StaffFileErrorCode.MISSING_COLUMN,
                    _("The required column %(column)s is missing."),
                    column=name,
                )
        self.columns = frozenset(self.positions)
        # Template order, so that a row's problems come out left to right.
        self.ordered = [(name, self.positions[name]) for name in COLUMNS if name in self.positions]
        self.optional_present = self.columns & OPTIONAL_COLUMNS
        self.header_ok = not self.problems

    def _problem(
        self, row: int, column: str, code: StaffFileErrorCode, message: str, /, **params: Any
    ) -> None:
        self.problems.append(Problem(row, column, code, message % params if params else message))

    def parse(self, row_number: int, cells: Sequence[Any]) -> StaffRecord | None:
        width = len(cells)
        raw = [(name, cells[index] if index < width else None) for name, index in self.ordered]
        if not any(
            value is not None and (value.__class__ is not str or value.strip())
            for _name, value in raw
        ):
            return None
        before = len(self.problems)
        values: dict[str, Any] = {}
        for name, value in raw:
            if name in _DATE_COLUMNS:
                values[name] = self._date(row_number, name, value)
            elif name == "birth_year":
                values[name] = self._year(row_number, value)
            elif name == "active":
                values[name] = self._active(row_number, value)
            else:
                values[name] = self._text(row_number, name, value)
        if values.get("sex"):
            sex = _SEX_WORDS.get(values["sex"].casefold())
            if sex is None:
                self._problem(
                    row_number,
                    "sex",
                    StaffFileErrorCode.INVALID_SEX,
                    _("%(value)s is not a sex this import understands; use F or M."),
                    value=values["sex"],
                )
            values["sex"] = sex
        for name in ("staff_number", "supervisor_staff_number"):
            if values.get(name) and not _STAFF_NUMBER.match(values[name]):
                self._problem(
                    row_number,
                    name,
                    StaffFileErrorCode.INVALID_STAFF_NUMBER,
                    _(
                        "%(value)s is not a valid staff number: use letters, digits, dot,"
                        " dash or underscore."
                    ),
                    value=values[name],
                )
        if len(self.problems) > before:
            return None
        if values.get("active") is None:
            values.pop("active", None)
        return StaffRecord(row=row_number, columns=self.optional_present, **values)

    def _text(self, row_number: int, name: str, value: Any) -> str:
        text = _cell_text(value)
        if not text:
            if name in REQUIRED_COLUMNS:
                self._problem(
                    row_number,
                    name,
                    StaffFileErrorCode.REQUIRED,
                    _("The column %(column)s must not be empty."),
                    column=name,
                )
            return ""
        if _has_control_characters(text):
            self._problem(
                row_number,
                name,
                StaffFileErrorCode.INVALID_TEXT,
                _("The value contains control characters such as line breaks or tabs."),
            )
            return ""
        limit = self.lengths.get(name)
        if limit is not None and len(text) > limit:
            self._problem(
                row_number,
                name,
                StaffFileErrorCode.TOO_LONG,
                _("The value has %(length)s characters; at most %(limit)s are allowed."),
                length=len(text),
                limit=limit,
            )
        return text

    def _date(self, row_number: int, name: str, value: Any) -> dt.date | None:
        if isinstance(value, dt.datetime):
            if value.time() == dt.time(0, 0):
                return value.date()
        elif isinstance(value, dt.date):
            return value
        text = _cell_text(value)
        if not text:
            return None
        match = _ISO_DATE.match(text)
        if match:
            try:
                return dt.date.fromisoformat(match.group(1))
            except ValueError:
                pass
        self._problem(
            row_number,
            name,
            StaffFileErrorCode.INVALID_DATE,
            _("%(value)s is not a date; write it as YYYY-MM-DD, for example 2024-09-01."),
            value=text,
        )
        return None

    def _year(self, row_number: int, value: Any) -> int | None:
        text = _cell_text(value)
        if not text:
            return None
        if re.fullmatch(r"\d{4}", text):
            return int(text)
        self._problem(
            row_number,
            "birth_year",
            StaffFileErrorCode.INVALID_YEAR,
            _("%(value)s is not a year; write four digits, for example 1985."),
            value=text,
        )
        return None

    def _active(self, row_number: int, value: Any) -> bool | None:
        text = _cell_text(value).casefold()
        if not text:
            return None
        if text in _TRUE_WORDS:
            return True
        if text in _FALSE_WORDS:
            return False
        self._problem(
            row_number,
            "active",
            StaffFileErrorCode.INVALID_BOOLEAN,
            _("%(value)s is not understood; write yes or no."),
            value=text,
        )
        return None


def _parse_rows(rows: Iterable[Sequence[Any]], progress: Progress | None) -> StaffFile:
    iterator = iter(rows)
    header: Sequence[Any] | None = None
    for candidate in iterator:
        header = candidate
        break
    if header is None or all(_header_name(v) == "" for v in header):
        problem = Problem(0, "", StaffFileErrorCode.EMPTY, _("The file has no header row."))
        return StaffFile(records=[], problems=[problem], columns=frozenset())
    parser = _RowParser(header)
    records: list[StaffRecord] = []
    if not parser.header_ok:
        return StaffFile(records=[], problems=parser.problems, columns=parser.columns)
    for row_number, cells in enumerate(iterator, start=2):
        record = parser.parse(row_number, cells)
        if record is not None:
            records.append(record)
        if progress is not None and row_number % 1000 == 0:
            progress(1000)
    return StaffFile(
        records=records, problems=sort_problems(parser.problems), columns=parser.columns
    )


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """File order: by row, then by the column's place in the template."""
    order = {name: index for index, name in enumerate(COLUMNS)}
    return sorted(problems, key=lambda p: (p.row, order.get(p.column, len(order)), p.code))


def _sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def parse_csv(data: bytes, *, progress: Progress | None = None) -> StaffFile:
    """Parse UTF-8 CSV (with or without BOM; comma, semicolon or tab separated)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        problem = Problem(
            row,
            "",
            StaffFileErrorCode.NOT_UTF8,
            _("The file is not UTF-8 text (first bad byte on line %(line)s). Save it as CSV UTF-8.")
            % {"line": row},
        )
        return StaffFile(records=[], problems=[problem], columns=frozenset())
    if "\x00" in text:
        problem = Problem(
            0, "", StaffFileErrorCode.UNREADABLE, _("The file is not a CSV text file.")
        )
        return StaffFile(records=[], problems=[problem], columns=frozenset())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        return _parse_rows(reader, progress)
    except csv.Error as exc:
        problem = Problem(
            reader.line_num,
            "",
            StaffFileErrorCode.UNREADABLE,
            _("The CSV file is malformed: %(error)s") % {"error": str(exc)},
        )
        return StaffFile(records=[], problems=[problem], columns=frozenset())


def parse_xlsx(data: bytes, *, progress: Progress | None = None) -> StaffFile:
    """Parse the first sheet of an XLSX workbook; its first row is the header."""
    import openpyxl

    unreadable = StaffFile(
        records=[],
        problems=[
            Problem(
                0,
                "",
                StaffFileErrorCode.UNREADABLE,
                _("The file is not an Excel workbook (.xlsx) that can be read."),
            )
        ],
        columns=frozenset(),
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # A small file that inflates to gigabytes is an attack, not a staff list.
            if sum(info.file_size for info in archive.infolist()) > _MAX_XLSX_UNCOMPRESSED_BYTES:
                return unreadable
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        return unreadable
    try:
        sheet = workbook.worksheets[0]
        # Some programs write a wrong sheet size; read every row that is there.
        sheet.reset_dimensions()  # type: ignore[union-attr]
        return _parse_rows(sheet.iter_rows(values_only=True), progress)
    except Exception:
        return unreadable
    finally:
        workbook.close()


def parse_file(name: str, data: bytes, *, progress: Progress | None = None) -> StaffFile:
    """Pick the format by file extension (.csv or .xlsx)."""
    lowered = name.lower()
    if lowered.endswith(".xlsx"):
        return parse_xlsx(data, progress=progress)
    if lowered.endswith(".csv"):
        return parse_csv(data, progress=progress)
    problem = Problem(
        0,
        "",
        StaffFileErrorCode.UNREADABLE,
        _("%(name)s is neither a .csv nor an .xlsx file.") % {"name": name},
    )
    return StaffFile(records=[], problems=[problem], columns=frozenset())


# ------------------------------------------------------------------------ serialising


def escape_formula(text: str) -> str:
    """Stop spreadsheet programs from running a cell as a formula."""
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text


def _row_values(record: StaffRecord, clean: Callable[[str], str] | None = None) -> list[Any]:
    """Cell values in column order; text is cleaned first, then escaped against formulas."""
    values: list[Any] = []
    for name in COLUMNS:
        value = getattr(record, name)
        if name == "active":
            values.append("yes" if value else "no")
        elif value is None:
            values.append("")
        elif isinstance(value, str):
            values.append(escape_formula(clean(value) if clean else value))
        else:
            values.append(value)
    return values


class _Line:
    """A write-only file object that hands back what csv.writer wrote."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def iter_csv(records: Iterable[StaffRecord], *, bom: bool = True) -> Iterator[str]:
    """CSV lines, header first; suited to streaming a large export."""
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield ("\ufeff" if bom else "") + line.text
    for record in records:
        writer.writerow(
            [v.isoformat() if isinstance(v, dt.date) else v for v in _row_values(record)]
        )
        yield line.text


def write_csv(records: Iterable[StaffRecord], out: IO[str], *, bom: bool = True) -> int:
    """Write CSV to a text stream; returns the number of records written."""
    lines = iter_csv(records, bom=bom)
    out.write(next(lines))
    count = 0
    for line in lines:
        out.write(line)
        count += 1
    return count


def write_xlsx(records: Iterable[StaffRecord], out: IO[bytes]) -> int:
    """Write an XLSX workbook (one sheet, header row first); returns the record count.

    Plain values, not styled cells: openpyxl formats dates as yyyy-mm-dd by itself, and escaped
    text never starts with "=", so none is stored as a formula. Control characters that XLSX
    cannot hold (typed into a web form, say) are dropped before escaping.
    """
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title="staff")
    sheet.append(list(COLUMNS))
    count = 0
    for record in records:
        sheet.append(_row_values(record, clean=lambda text: ILLEGAL_CHARACTERS_RE.sub("", text)))
        count += 1
    workbook.save(out)
    return count

"""Read ODK Central and KoboToolbox submission exports of a campaign form (see io/xlsform.py).

Pure parsing, streamed row by row: CSV through the `csv` module (the delimiter is sniffed,
Kobo often writes `;`), XLSX through openpyxl in read-only mode. Nothing here touches the
database; `educap.assessments.submissions` checks people, assignments and profiles.

Columns are recognised by the field name at the end of their group path, whichever the
separator: ODK Central writes `d_D1-c_D1.1`, Kobo `d_D1/c_D1.1`. A select_multiple arrives
as one column of space-separated choice codes, as split 0/1 columns (`q_x-opt`, `q_x/opt`),
or both. Kobo exports must use XML values, not labels.

Row numbers are those a spreadsheet shows: the header is row 1, the first submission row 2.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _

from educap.assessments.io.xlsform import PERSON, RATER, SOURCE

ID_COLUMNS = ("KEY", "meta-instanceID", "meta/instanceID", "instanceID", "_uuid", "_id")
DATE_COLUMNS = ("SubmissionDate", "_submission_time")
_SEPARATORS = "-/"
_TRUE, _FALSE = {"1", "true", "yes"}, {"0", "false", "no", ""}


class SubmissionErrorCode(StrEnum):
    MISSING_COLUMN = "missing_column"
    UNREADABLE = "file_unreadable"
    NO_ID = "submission_id_missing"
    DUPLICATE_IN_FILE = "submission_duplicate_in_file"
    DUPLICATE_CHANGED = "submission_duplicate_changed"
    BAD_DATE = "submission_date_invalid"
    UNKNOWN_PERSON = "person_unknown"
    PERSON_NOT_IN_CAMPAIGN = "person_not_in_campaign"
    BAD_SOURCE = "source_invalid"
    UNKNOWN_RATER = "rater_unknown"
    LEVEL_NOT_ON_SCALE = "level_not_on_scale"
    NOT_IN_PROFILE = "competency_not_in_profile"
    BAD_ANSWER = "survey_answer_invalid"
    SURVEY_NOT_EXPECTED = "survey_not_expected"
    SURVEY_ALREADY_ANSWERED = "survey_already_answered"


@dataclass(frozen=True)
class Problem:
    row: int  # 0: the file as a whole
    column: str
    code: str
    message: str
    instance_id: str = ""


@dataclass(frozen=True)
class QuestionLayout:
    kind: str  # single / multiple / likert / number / text
    choices: frozenset[str] = frozenset()
    min_value: Decimal | None = None
    max_value: Decimal | None = None


@dataclass(frozen=True)
class FormLayout:
    """The field names a campaign form has, and what their answers may be."""

    competencies: frozenset[str]
    levels: frozenset[int]
    questions: dict[str, QuestionLayout] = field(default_factory=dict)


Answer = str | tuple[str, ...] | Decimal


@dataclass
class SubmissionRow:
    row: int
    instance_id: str
    submitted_at: dt.datetime | None
    person: str
    source: str
    rater: str
    levels: dict[str, int] = field(default_factory=dict)  # competency field -> level value
    answers: dict[str, Answer] = field(default_factory=dict)  # question field -> answer
    problems: list[Problem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field -> column header (for reports)

    def problem(self, column: str, code: str, message: str) -> None:
        self.problems.append(Problem(self.row, column, code, message, self.instance_id))

    def digest(self) -> str:
        """SHA-256 of the normalised answers: equal for the same answers in any export format."""
        parts = [self.person, self.source, self.rater]
        parts += [f"{k}={v}" for k, v in sorted(self.levels.items())]
        for name, value in sorted(self.answers.items()):
            if isinstance(value, tuple):
                text = " ".join(value)
            elif isinstance(value, Decimal):
                text = format(value.normalize(), "f")
            else:
                text = value
            parts.append(f"{name}:{text}")
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# --- reading tables --------------------------------------------------------------------


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number, cells)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _sniff(sample: str) -> str:
    first = sample.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@contextmanager
def open_table(source: Path | IO[bytes], file_name: str) -> Iterator[Table]:
    """The header and a row iterator of a .csv or .xlsx export, streamed."""
    if file_name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        book = load_workbook(source, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            values = sheet.iter_rows(values_only=True)
            header = [_cell(v) for v in next(values, ())]
            rows = (
                (number, [_cell(v) for v in row])
                for number, row in enumerate(values, start=2)
                if any(v not in (None, "") for v in row)
            )
            yield Table(header, rows)
        finally:
            book.close()
        return
    binary = open(source, "rb") if isinstance(source, Path) else source  # noqa: SIM115
    try:
        head = binary.read(65536)
        binary.seek(0)
        sample = codecs.getincrementaldecoder("utf-8-sig")(errors="replace").decode(head)
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        reader = csv.reader(text, delimiter=_sniff(sample))
        header = [h.strip() for h in next(reader, [])]
        yield Table(header, ((n, r) for n, r in enumerate(reader, start=2) if any(r)))
        text.detach()
    finally:
        if isinstance(source, Path):
            binary.close()


# --- columns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    kind: str  # id / date / person / source / rater / competency / question / flag
    field: str = ""
    choice: str = ""


def _field_of(header: str, names: set[str]) -> str:
    """The known field a column header ends with (after a group path), or ""."""
    if header in names:
        return header
    for i, char in enumerate(header):
        if char in _SEPARATORS and header[i + 1 :] in names:
            return header[i + 1 :]
    return ""


def map_columns(header: list[str], layout: FormLayout) -> tuple[list[Column], list[Problem]]:
    problems: list[Problem] = []
    columns: list[Column] = []
    fixed = {PERSON: "person", SOURCE: "source", RATER: "rater"}
    names = set(fixed) | set(layout.competencies) | set(layout.questions)
    multiples = {n for n, q in layout.questions.items() if q.kind == "multiple"}
    id_index = next((header.index(c) for c in ID_COLUMNS if c in header), None)
    date_index = next((header.index(c) for c in DATE_COLUMNS if c in header), None)
    for index, head in enumerate(header):
        if index == id_index:
            columns.append(Column(index, head, "id"))
            continue
        if index == date_index:
            columns.append(Column(index, head, "date"))
            continue
        name = _field_of(head, names)
        if name in fixed:
            columns.append(Column(index, head, fixed[name], name))
        elif name in layout.competencies:
            columns.append(Column(index, head, "competency", name))
        elif name in layout.questions:
            columns.append(Column(index, head, "question", name))
        else:
            for i, char in enumerate(head):
                if char not in _SEPARATORS:
                    continue
                question = _field_of(head[:i], multiples)
                choice = head[i + 1 :]
                if question and choice in layout.questions[question].choices:
                    columns.append(Column(index, head, "flag", question, choice))
                    break
    kinds = {c.kind for c in columns}
    required = (
        ("id", " / ".join(ID_COLUMNS)),
        ("date", " / ".join(DATE_COLUMNS)),
        ("person", PERSON),
        ("source", SOURCE),
    )
    for kind, label in required:
        if kind not in kinds:
            problems.append(
                Problem(
                    0,
                    label,
                    SubmissionErrorCode.MISSING_COLUMN,
                    _("The file has no %(column)s column. Is it an export of this campaign's form?")
                    % {"column": label},
                )
            )
    return columns, problems


# --- rows ------------------------------------------------------------------------------


def parse_datetime(text: str) -> dt.datetime | None:
    """ISO 8601 as ODK Central and Kobo write it; a time without zone is UTC."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def _answer(row: SubmissionRow, column: Column, value: str, question: QuestionLayout) -> None:
    def bad(message: str) -> None:
        row.problem(column.header, SubmissionErrorCode.BAD_ANSWER, message)

    if question.kind in ("single", "likert"):
        if value not in question.choices:
            bad(_("“%(value)s” is not one of the question's choices.") % {"value": value})
            return
        row.answers[column.field] = value
    elif question.kind == "multiple":
        picked = value.split()
        unknown = [p for p in picked if p not in question.choices]
        if unknown:
            bad(_("“%(value)s” is not one of the question's choices.") % {"value": unknown[0]})
            return
        current = row.answers.get(column.field, ())
        row.answers[column.field] = tuple(sorted({*current, *picked}))  # type: ignore[misc]
    elif question.kind == "number":
        try:
            number = Decimal(value)
        except InvalidOperation:
            bad(_("“%(value)s” is not a number.") % {"value": value})
            return
        if not number.is_finite() or (
            (question.min_value is not None and number < question.min_value)
            or (question.max_value is not None and number > question.max_value)
        ):
            bad(_("%(value)s is outside the allowed range.") % {"value": value})
            return
        row.answers[column.field] = number
    else:
        row.answers[column.field] = value


class RowParser:
    """Parses rows of one file: the column groups are worked out once, not per row."""

    def __init__(self, columns: list[Column], layout: FormLayout) -> None:
        self.layout = layout
        self.fixed = {c.kind: c for c in columns if c.kind in _FIXED_KINDS}
        self.competencies = [
            (c.index, c.field, c.header) for c in columns if c.kind == "competency"
        ]
        self.questions = [c for c in columns if c.kind == "question"]
        self.flags = [c for c in columns if c.kind == "flag"]
        self.width = max((c.index for c in columns), default=-1) + 1
        self.level_of = {str(level): level for level in layout.levels}
        # field -> the column a report names (shared by every row of the file)
        self.headers: dict[str, str] = {kind: c.header for kind, c in self.fixed.items()}
        for c in [*self.questions, *self.flags]:
            self.headers.setdefault(c.field, c.header)
        self.headers.update({name: header for _i, name, header in self.competencies})

    def __call__(self, number: int, cells: list[str]) -> SubmissionRow:
        if len(cells) < self.width:
            cells = [*cells, *[""] * (self.width - len(cells))]
        fixed = {kind: cells[c.index].strip() for kind, c in self.fixed.items()}
        row = SubmissionRow(
            row=number,
            instance_id=fixed.get("id", ""),
            submitted_at=None,
            person=fixed.get("person", ""),
            source=fixed.get("source", ""),
            rater=fixed.get("rater", ""),
            columns=self.headers,
        )
        if "id" in fixed and not row.instance_id:
            row.problem(
                self.headers["id"], SubmissionErrorCode.NO_ID, _("The submission has no id.")
            )
        if "date" in fixed:
            row.submitted_at = parse_datetime(fixed["date"])
            if row.submitted_at is None:
                row.problem(
                    self.headers["date"],
                    SubmissionErrorCode.BAD_DATE,
                    _("“%(value)s” is not a date and time.") % {"value": fixed["date"]},
                )
        if "person" in fixed and not row.person:
            row.problem(
                self.headers["person"], SubmissionErrorCode.UNKNOWN_PERSON, _("No person chosen.")
            )
        levels = row.levels
        level_of = self.level_of
        for index, name, header in self.competencies:
            value = cells[index]
            if not value:
                continue
            level = level_of.get(value)
            if level is None:
                level = level_of.get(value.strip())
            if level is None:
                row.problem(
                    header,
                    SubmissionErrorCode.LEVEL_NOT_ON_SCALE,
                    _("“%(value)s” is not a level of the scale.") % {"value": value.strip()},
                )
            else:
                levels[name] = level
        for column in self.questions:
            value = cells[column.index].strip()
            if value:
                _answer(row, column, value, self.layout.questions[column.field])
        for column in self.flags:
            flag = cells[column.index].strip().lower()
            if flag in _TRUE:
                current = row.answers.get(column.field, ())
                row.answers[column.field] = tuple(sorted({*current, column.choice}))  # type: ignore[misc]
            elif flag not in _FALSE:
                row.problem(
                    column.header,
                    SubmissionErrorCode.BAD_ANSWER,
                    _("“%(value)s” should be 1 or 0.") % {"value": cells[column.index]},
                )
        return row


_FIXED_KINDS = ("id", "date", "person", "source", "rater")


def parse_row(
    number: int, cells: list[str], columns: list[Column], layout: FormLayout
) -> SubmissionRow:
    """One submission, its values normalised and checked against the form (not the database)."""
    return RowParser(columns, layout)(number, cells)


def read_submissions(
    source: Path | IO[bytes], file_name: str, layout: FormLayout
) -> Iterator[SubmissionRow | Problem]:
    """File problems (row 0) first, then one SubmissionRow per row; nothing when the header
    is unusable."""
    try:
        with open_table(source, file_name) as table:
            columns, problems = map_columns(table.header, layout)
            yield from problems
            if problems:
                return
            parse = RowParser(columns, layout)
            for number, cells in table.rows:
                yield parse(number, cells)
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, ValueError) as exc:
        yield Problem(
            0,
            "",
            SubmissionErrorCode.UNREADABLE,
            _("The file cannot be read as CSV or XLSX: %(error)s") % {"error": exc},
        )


# --- rejection report ------------------------------------------------------------------

REPORT_HEADER = ["row", "submission_id", "column", "code", "problem"]


def write_report(problems: list[Problem], out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(REPORT_HEADER)
    for p in problems:
        writer.writerow([p.row or "", p.instance_id, p.column, p.code, p.message])

"""The training catalogue as CSV or XLSX: one row per course.

Columns (the first row names them; order does not matter, unknown columns are refused).
`code`, `title_en` and `duration_hours` are required; any other column may be left out of the
file, and then an existing course keeps what it has (a new course gets the default). A column
that is present but empty means "empty" (or the default), so a row describes the whole course.

    code                  unique course code, e.g. DQ-101 (an existing code is updated)
    programme             programme code (empty: none); a new code creates the programme
    programme_title_en, programme_title_ar, programme_title_fr, programme_title_lo
                          the programme's title (used when the programme is new or changes)
    title_en, title_ar, title_fr, title_lo                 the course title (English required)
    description_en, description_ar, description_fr, description_lo
    track                 core | role | leadership
    modality              face | online | blended | webinar | job | micro
    duration_hours        hours, one decimal, e.g. 12 or 7.5
    cpd_credits           credits, one decimal (empty: 0)
    provider_kind         internal | university | ngo | online
    provider_name         e.g. National University, Faculty of Education
    prerequisites         codes of courses to complete first, separated by spaces
    target_roles          role codes separated by spaces, e.g. emis_officer data_clerk
    competencies          competencies developed and the level reached, separated by spaces:
                          FRAMEWORK:COMPETENCY=LEVEL, e.g. EMIS-STAFF:DQ.2=3; a particular
                          version as FRAMEWORK@VERSION:COMPETENCY=LEVEL (EMIS-STAFF@1.0:DQ.2=3)
    cost_per_cohort       fixed cost of one cohort (two decimals; empty: 0)
    cost_per_participant  cost per participant (two decimals; empty: 0)
    min_attendance_percent  0-100 (empty: 80)
    pass_mark             0-100, empty when the course has no final test
    records_evidence      yes / no: completion records the levels as competency evidence
    active                yes / no (empty: yes)

The labels people type are accepted for the choice columns too ("face-to-face",
"on-the-job", "role-specific", ...). Parsing touches no database: `parse_csv`/`parse_xlsx`
return `CourseRecord`s and `Problem`s naming the row (the header is row 1) and the column;
`services.catalogue.catalogue_import_plan` resolves codes against the database.
Exports protect cells a spreadsheet would run as formulas with a leading `'`, which reading
removes again.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from educap.org.io.units_csv import protect_cell, unprotect_cell

LANGUAGES = ("en", "ar", "fr", "lo")
Texts = dict[str, str]

TRACKS = ("core", "role", "leadership")
MODALITIES = ("face", "online", "blended", "webinar", "job", "micro")
PROVIDER_KINDS = ("internal", "university", "ngo", "online")
# What people write for the stored values (compared lower-case, spaces and "_" as "-").
ALIASES: dict[str, dict[str, str]] = {
    "track": {
        "core-(all-staff)": "core",
        "role-specific": "role",
        "advanced": "leadership",
        "advanced-and-leadership": "leadership",
    },
    "modality": {
        "face-to-face": "face",
        "f2f": "face",
        "on-the-job": "job",
        "microlearning": "micro",
    },
    "provider_kind": {"online-platform": "online"},
}

COLUMNS = [
    "code",
    "programme",
    *[f"programme_title_{lang}" for lang in LANGUAGES],
    *[f"title_{lang}" for lang in LANGUAGES],
    *[f"description_{lang}" for lang in LANGUAGES],
    "track",
    "modality",
    "duration_hours",
    "cpd_credits",
    "provider_kind",
    "provider_name",
    "prerequisites",
    "target_roles",
    "competencies",
    "cost_per_cohort",
    "cost_per_participant",
    "min_attendance_percent",
    "pass_mark",
    "records_evidence",
    "active",
]
REQUIRED = ("code", "title_en", "duration_hours")
TRUE_WORDS = {"yes", "true", "1", "y", "oui", "vrai", "نعم"}
FALSE_WORDS = {"no", "false", "0", "n", "non", "faux", "لا"}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
# FRAMEWORK[@VERSION]:COMPETENCY=LEVEL
_COMPETENCY = re.compile(
    r"^(?P<framework>[A-Za-z0-9][A-Za-z0-9_.\-]*)"
    r"(?:@(?P<version>[^\s:=@]+))?"
    r":(?P<item>[A-Za-z0-9][A-Za-z0-9_.\-]*)"
    r"=(?P<level>\d{1,3})$"
)
_SEPARATORS = re.compile(r"[\s,;]+")
MAX_ROWS = 20_000
_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
LIMITS = {"code": 40, "title": 300, "provider_name": 200}


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    code: str
    message: str

    @property
    def location(self) -> str:
        return str(self.row)


@dataclass(frozen=True)
class CompetencyRef:
    framework: str
    item: str
    level: int
    version: str = ""

    def __str__(self) -> str:
        version = f"@{self.version}" if self.version else ""
        return f"{self.framework}{version}:{self.item}={self.level}"


@dataclass
class CourseRecord:
    """One course as a file describes it. `columns` names the columns the file had."""

    code: str
    title: Texts
    duration_hours: Decimal
    programme: str = ""
    programme_title: Texts = field(default_factory=dict)
    description: Texts = field(default_factory=dict)
    track: str = "core"
    modality: str = "face"
    cpd_credits: Decimal = Decimal(0)
    provider_kind: str = "internal"
    provider_name: str = ""
    prerequisites: list[str] = field(default_factory=list)
    target_roles: list[str] = field(default_factory=list)
    competencies: list[CompetencyRef] = field(default_factory=list)
    cost_per_cohort: Decimal = Decimal(0)
    cost_per_participant: Decimal = Decimal(0)
    min_attendance_percent: int = 80
    pass_mark: int | None = None
    records_evidence: bool = False
    active: bool = True
    row: int = 0
    columns: frozenset[str] = frozenset(COLUMNS)

    def has(self, column: str) -> bool:
        return column in self.columns


@dataclass
class Parsed:
    records: list[CourseRecord]
    problems: list[Problem]


# --- reading ---------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
            return str(value)
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return unprotect_cell(str(value).strip()).strip()


def _split(text: str) -> list[str]:
    return [part for part in _SEPARATORS.split(text) if part]


def _choice(column: str, text: str, allowed: Sequence[str]) -> str | None:
    key = re.sub(r"[\s_]+", "-", text.strip().lower())
    if key in allowed:
        return key
    return ALIASES.get(column, {}).get(key)


class _Row:
    def __init__(self, number: int, values: Mapping[str, str], problems: list[Problem]) -> None:
        self.number = number
        self.values = values
        self.problems = problems
        self.failed = False

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    def problem(self, column: str, code: str, message: str) -> None:
        self.failed = True
        self.problems.append(Problem(self.number, column, code, message))

    def texts(self, prefix: str, limit: int | None = None) -> Texts:
        texts: Texts = {}
        for lang in LANGUAGES:
            text = self.get(f"{prefix}_{lang}")
            if not text:
                continue
            if limit is not None and len(text) > limit:
                self.problem(
                    f"{prefix}_{lang}",
                    "too_long",
                    _("At most %(limit)s characters.") % {"limit": limit},
                )
            texts[lang] = text
        return texts

    def number_in(
        self,
        column: str,
        *,
        places: int,
        default: Decimal,
        maximum: Decimal,
        minimum: Decimal = Decimal(0),
    ) -> Decimal:
        text = self.get(column).replace(",", ".").replace(" ", "")
        if not text:
            return default
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.problem(column, "bad_number", _("Write a number, e.g. 12 or 7.5."))
            return default
        if not value.is_finite() or value < minimum or value > maximum:
            self.problem(
                column,
                "bad_number",
                _("Write a number from %(minimum)s to %(maximum)s.")
                % {"minimum": minimum, "maximum": maximum},
            )
            return default
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            self.problem(
                column,
                "too_many_decimals",
                _("At most %(places)s decimal places.") % {"places": places},
            )
            return default
        return value

    def percent(self, column: str, default: int | None) -> int | None:
        text = self.get(column).removesuffix("%").strip()
        if not text:
            return default
        if not text.isdigit() or not text.isascii() or int(text) > 100:
            self.problem(column, "bad_percent", _("Write a whole number from 0 to 100."))
            return default
        return int(text)

    def flag(self, column: str, default: bool) -> bool:
        text = self.get(column).lower()
        if not text:
            return default
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        self.problem(column, "bad_yes_no", _("Write yes or no."))
        return default

    def codes(self, column: str, *, limit: int = 40) -> list[str]:
        values = list(dict.fromkeys(_split(self.get(column))))
        bad = [v for v in values if not _CODE.match(v) or len(v) > limit]
        if bad:
            self.problem(
                column,
                "bad_code",
                _("Not valid codes: %(codes)s. Separate codes with spaces.")
                % {"codes": ", ".join(bad[:5])},
            )
            return [v for v in values if v not in bad]
        return values

    def competencies(self) -> list[CompetencyRef]:
        refs: list[CompetencyRef] = []
        seen: set[tuple[str, str, str]] = set()
        for token in _split(self.get("competencies")):
            match = _COMPETENCY.match(token)
            if match is None:
                self.problem(
                    "competencies",
                    "bad_competency",
                    _("%(token)s: write FRAMEWORK:COMPETENCY=LEVEL, e.g. EMIS-STAFF:DQ.2=3.")
                    % {"token": token[:60]},
                )
                continue
            ref = CompetencyRef(
                framework=match["framework"],
                version=match["version"] or "",
                item=match["item"],
                level=int(match["level"]),
            )
            key = (ref.framework, ref.version, ref.item)
            if key in seen:
                self.problem(
                    "competencies",
                    "duplicate_competency",
                    _("%(competency)s is listed twice.") % {"competency": ref.item},
                )
                continue
            seen.add(key)
            refs.append(ref)
        return refs


def _record(row: _Row, columns: frozenset[str]) -> CourseRecord | None:
    for column in REQUIRED:
        if not row.get(column):
            row.problem(column, "missing", _("Required."))
    code = row.get("code")
    if code and (not _CODE.match(code) or len(code) > LIMITS["code"]):
        row.problem(
            "code",
            "bad_code",
            _("Use at most 40 letters, digits, dot, dash or underscore, starting with a letter "
              "or digit."),
        )  # fmt: skip
    programme = row.get("programme")
    if programme and (not _CODE.match(programme) or len(programme) > LIMITS["code"]):
        row.problem("programme", "bad_code", _("Not a valid programme code."))
    choices: dict[str, str] = {}
    for column, allowed, default in (
        ("track", TRACKS, "core"),
        ("modality", MODALITIES, "face"),
        ("provider_kind", PROVIDER_KINDS, "internal"),
    ):
        text = row.get(column)
        value = _choice(column, text, allowed) if text else default
        if value is None:
            row.problem(
                column, "bad_choice", _("Use one of %(values)s.") % {"values": ", ".join(allowed)}
            )
            value = default
        choices[column] = value
    provider_name = row.get("provider_name")
    if len(provider_name) > LIMITS["provider_name"]:
        row.problem("provider_name", "too_long", _("At most 200 characters."))
    record = CourseRecord(
        code=code,
        title=row.texts("title", LIMITS["title"]),
        description=row.texts("description"),
        duration_hours=row.number_in(
            "duration_hours",
            places=1,
            default=Decimal(0),
            minimum=Decimal("0.1"),
            maximum=Decimal("99999.9"),
        ),
        programme=programme,
        programme_title=row.texts("programme_title", LIMITS["title"]),
        track=choices["track"],
        modality=choices["modality"],
        cpd_credits=row.number_in(
            "cpd_credits", places=1, default=Decimal(0), maximum=Decimal("99999.9")
        ),
        provider_kind=choices["provider_kind"],
        provider_name=provider_name,
        prerequisites=row.codes("prerequisites"),
        target_roles=row.codes("target_roles"),
        competencies=row.competencies(),
        cost_per_cohort=row.number_in(
            "cost_per_cohort", places=2, default=Decimal(0), maximum=Decimal("9999999999.99")
        ),
        cost_per_participant=row.number_in(
            "cost_per_participant", places=2, default=Decimal(0), maximum=Decimal("9999999999.99")
        ),
        min_attendance_percent=row.percent("min_attendance_percent", 80) or 0,
        pass_mark=row.percent("pass_mark", None),
        records_evidence=row.flag("records_evidence", False),
        active=row.flag("active", True),
        row=row.number,
        columns=columns,
    )
    if code and code in record.prerequisites:
        row.problem("prerequisites", "prerequisite_self", _("A course cannot require itself."))
    return None if row.failed else record


def parse_rows(rows: Iterable[Sequence[Any]]) -> Parsed:
    """Rows of cells, the first naming the columns. Never raises on bad input."""
    problems: list[Problem] = []
    records: list[CourseRecord] = []
    iterator = iter(rows)
    try:
        header = [_cell(c).removeprefix("\ufeff").strip().lower() for c in next(iterator)]
    except StopIteration:
        return Parsed([], [Problem(1, "", "empty", _("The file is empty."))])
    named = [h for h in header if h]
    unknown = [h for h in named if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    repeated = sorted({h for h in named if named.count(h) > 1})
    if unknown:
        problems.append(
            Problem(
                1,
                unknown[0],
                "unknown_column",
                _("Unknown columns: %(columns)s.") % {"columns": ", ".join(unknown[:10])},
            )
        )
    if missing:
        problems.append(
            Problem(
                1,
                missing[0],
                "missing_column",
                _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)},
            )
        )
    if repeated:
        problems.append(
            Problem(
                1,
                repeated[0],
                "repeated_column",
                _("Repeated columns: %(columns)s.") % {"columns": ", ".join(repeated)},
            )
        )
    if problems:
        return Parsed([], problems)
    columns = frozenset(named)
    seen: dict[str, int] = {}
    for number, raw in enumerate(iterator, start=2):
        if number > MAX_ROWS + 1:
            problems.append(
                Problem(
                    number,
                    "",
                    "too_many_rows",
                    _("At most %(rows)s courses in one file.") % {"rows": MAX_ROWS},
                )
            )
            break
        values = {
            name: _cell(raw[i]) if i < len(raw) else "" for i, name in enumerate(header) if name
        }
        if not any(values.values()):
            continue
        record = _record(_Row(number, values, problems), columns)
        if record is None:
            continue
        if record.code in seen:
            problems.append(
                Problem(
                    number,
                    "code",
                    "duplicate_code",
                    _("%(code)s is already on row %(row)s.")
                    % {"code": record.code, "row": seen[record.code]},
                )
            )
            continue
        seen[record.code] = number
        records.append(record)
    return Parsed(records, problems)


def parse_csv(data: bytes) -> Parsed:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Parsed([], [Problem(1, "", "encoding", _("Save the file as UTF-8 CSV."))])
    if "\x00" in text:
        return Parsed([], [Problem(1, "", "unreadable", _("This is not a CSV file."))])
    # Spreadsheets set to French or Arabic save CSV with ";": the header line tells.
    header = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header.count) if header else ","
    try:
        return parse_rows(list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))
    except csv.Error:
        return Parsed([], [Problem(1, "", "unreadable", _("This is not a CSV file."))])


def parse_xlsx(data: bytes) -> Parsed:
    from openpyxl import load_workbook

    unreadable = Parsed([], [Problem(1, "", "unreadable", _("This is not an XLSX workbook."))])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # A small file that inflates to gigabytes is an attack, not a catalogue.
            if sum(info.file_size for info in archive.infolist()) > _MAX_UNCOMPRESSED_BYTES:
                return unreadable
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        return unreadable
    try:
        names = {name.strip().lower(): name for name in workbook.sheetnames}
        sheet = workbook[names["courses"]] if "courses" in names else workbook.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # some programs write a wrong sheet size
        return parse_rows(sheet.iter_rows(values_only=True))
    except Exception:  # damaged parts surface while reading rows
        return unreadable
    finally:
        workbook.close()


def parse(data: bytes, fmt: str) -> Parsed:
    return parse_xlsx(data) if fmt == "xlsx" else parse_csv(data)


def format_of(name: str) -> str:
    """csv or xlsx, from a file name."""
    return "xlsx" if name.lower().endswith((".xlsx", ".xlsm")) else "csv"


# --- writing ---------------------------------------------------------------------------


def _number(value: Decimal) -> str:
    return format(value.normalize() + 0, "f")


def record_row(record: CourseRecord) -> list[str]:
    values: dict[str, str] = {
        "code": record.code,
        "programme": record.programme,
        "track": record.track,
        "modality": record.modality,
        "duration_hours": _number(record.duration_hours),
        "cpd_credits": _number(record.cpd_credits),
        "provider_kind": record.provider_kind,
        "provider_name": record.provider_name,
        "prerequisites": " ".join(record.prerequisites),
        "target_roles": " ".join(record.target_roles),
        "competencies": " ".join(str(ref) for ref in record.competencies),
        "cost_per_cohort": _number(record.cost_per_cohort),
        "cost_per_participant": _number(record.cost_per_participant),
        "min_attendance_percent": str(record.min_attendance_percent),
        "pass_mark": "" if record.pass_mark is None else str(record.pass_mark),
        "records_evidence": "yes" if record.records_evidence else "no",
        "active": "yes" if record.active else "no",
    }
    for lang in LANGUAGES:
        values[f"programme_title_{lang}"] = record.programme_title.get(lang, "")
        values[f"title_{lang}"] = record.title.get(lang, "")
        values[f"description_{lang}"] = record.description.get(lang, "")
    return [protect_cell(values[c]) for c in COLUMNS]


def serialise_csv(records: Iterable[CourseRecord]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow(record_row(record))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def serialise_xlsx(records: Iterable[CourseRecord]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = "courses"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "B2"
    for row, record in enumerate(records, start=2):
        for column, value in enumerate(record_row(record), start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            # Text starting with "=" is kept as text, never turned into a formula.
            cell.data_type = "s"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def serialise(records: Iterable[CourseRecord], fmt: str) -> bytes:
    return serialise_xlsx(records) if fmt == "xlsx" else serialise_csv(records)

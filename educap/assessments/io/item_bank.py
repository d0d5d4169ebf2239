"""The knowledge-test item bank as CSV or XLSX: one row per question.

Columns (the first row names them; order does not matter, unknown columns are refused):

    code               unique code of the question, e.g. EMIS-SA1-01
    framework          code of the framework, e.g. EMIS-STAFF
    framework_version  version, e.g. 1.0 (empty: the latest published version)
    competency         code of the competency in that framework, e.g. SA.1
    kind               single | multiple | true_false | numeric
    stem_en, stem_ar, stem_fr, stem_lo                the question (English required)
    options_en, options_ar, options_fr, options_lo    answer options separated by " | "
                       (single and multiple choice; other languages may stay empty, else
                       they must list as many options as English)
    answer             single: the number of the correct option (1 = first);
                       multiple: the numbers of the correct options separated by ";" (1;3);
                       true_false: true or false; numeric: the correct number
    tolerance          numeric only: how far from the answer still counts as right (0)
    explanation_en, explanation_ar, explanation_fr, explanation_lo   shown after the test
    active             yes / no (empty: yes)

Option texts cannot contain "|". Parsing touches no database: `parse_csv`/`parse_xlsx` return
`ItemRecord`s and problems (row numbers count the header as row 1); `knowledge.item_bank_plan`
resolves them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

LANGUAGES = ("en", "ar", "fr", "lo")
KINDS = ("single", "multiple", "true_false", "numeric")
SEPARATOR = " | "
Texts = dict[str, str]

COLUMNS = [
    "code",
    "framework",
    "framework_version",
    "competency",
    "kind",
    *[f"stem_{lang}" for lang in LANGUAGES],
    *[f"options_{lang}" for lang in LANGUAGES],
    "answer",
    "tolerance",
    *[f"explanation_{lang}" for lang in LANGUAGES],
    "active",
]
REQUIRED = ("code", "framework", "competency", "kind", "stem_en")
TRUE_WORDS = {"true", "yes", "1", "vrai", "oui"}
FALSE_WORDS = {"false", "no", "0", "faux", "non"}


@dataclass(frozen=True)
class Problem:
    location: str
    code: str
    message: str
    column: str = ""


@dataclass
class ItemRecord:
    code: str
    framework: str
    competency: str
    kind: str
    stem: Texts
    framework_version: str = ""
    options: list[Texts] = field(default_factory=list)
    correct: set[int] = field(default_factory=set)  # 1-based option numbers
    true_false_answer: bool | None = None
    numeric_answer: Decimal | None = None
    tolerance: Decimal = Decimal(0)
    explanation: Texts = field(default_factory=dict)
    active: bool = True
    location: str = ""


@dataclass
class Parsed:
    records: list[ItemRecord]
    problems: list[Problem]


# --- reading ---------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _split_options(text: str) -> list[str]:
    if not text.strip():
        return []
    return [part.strip() for part in text.split("|")]


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_rows(rows: Iterable[Sequence[Any]]) -> Parsed:
    """Rows of cells, the first naming the columns."""
    problems: list[Problem] = []
    records: list[ItemRecord] = []
    iterator = iter(rows)
    try:
        header = [_cell(c).lower() for c in next(iterator)]
    except StopIteration:
        return Parsed([], [Problem("1", "empty", "The file is empty.")])
    unknown = [h for h in header if h and h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown:
        problems.append(Problem("1", "unknown_column", f"Unknown columns: {', '.join(unknown)}."))
    if missing:
        problems.append(Problem("1", "missing_column", f"Missing columns: {', '.join(missing)}."))
    if unknown or missing:
        return Parsed([], problems)
    seen: set[str] = set()
    for number, raw in enumerate(iterator, start=2):
        row = {name: _cell(raw[i]) if i < len(raw) else "" for i, name in enumerate(header) if name}
        if not any(row.values()):
            continue
        record = _record(row, str(number), problems)
        if record is None:
            continue
        if record.code in seen:
            problems.append(
                Problem(str(number), "duplicate_code", f"{record.code} repeated.", "code")
            )
            continue
        seen.add(record.code)
        records.append(record)
    return Parsed(records, problems)


def _record(row: Mapping[str, str], where: str, problems: list[Problem]) -> ItemRecord | None:
    before = len(problems)

    def problem(column: str, code: str, message: str) -> None:
        problems.append(Problem(where, code, message, column))

    for column in REQUIRED:
        if not row.get(column):
            problem(column, "missing", "Required.")
    kind = row.get("kind", "").lower()
    if kind and kind not in KINDS:
        problem("kind", "bad_kind", f"Use one of {', '.join(KINDS)}.")
    options_en = _split_options(row.get("options_en", ""))
    options: list[Texts] = [{"en": text} for text in options_en]
    for lang in LANGUAGES[1:]:
        texts = _split_options(row.get(f"options_{lang}", ""))
        if not texts:
            continue
        if len(texts) != len(options_en):
            problem(
                f"options_{lang}",
                "option_count",
                f"{len(texts)} options where English has {len(options_en)}.",
            )
            continue
        for option, text in zip(options, texts, strict=True):
            if text:
                option[lang] = text
    if any(not o["en"] for o in options):
        problem("options_en", "empty_option", "An option is empty.")
    answer = row.get("answer", "").strip()
    correct: set[int] = set()
    true_false: bool | None = None
    numeric: Decimal | None = None
    tolerance = Decimal(0)
    if kind in ("single", "multiple"):
        if len(options_en) < 2:
            problem("options_en", "too_few_options", "At least two options.")
        try:
            correct = {int(p) for p in answer.replace(",", ";").split(";") if p.strip()}
        except ValueError:
            problem("answer", "bad_answer", "Give option numbers, e.g. 2 or 1;3.")
        if not correct or any(not 1 <= n <= len(options_en) for n in correct):
            problem("answer", "bad_answer", "Give the numbers of the correct options.")
        elif kind == "single" and len(correct) != 1:
            problem("answer", "bad_answer", "A single-choice question has one correct option.")
    elif kind == "true_false":
        if answer.lower() in TRUE_WORDS:
            true_false = True
        elif answer.lower() in FALSE_WORDS:
            true_false = False
        else:
            problem("answer", "bad_answer", "Write true or false.")
    elif kind == "numeric":
        numeric = _number(answer)
        if numeric is None:
            problem("answer", "bad_answer", "Give the correct number.")
        if row.get("tolerance"):
            parsed_tolerance = _number(row["tolerance"])
            if parsed_tolerance is None or parsed_tolerance < 0:
                problem("tolerance", "bad_tolerance", "A number, zero or more.")
            else:
                tolerance = parsed_tolerance
    active_text = row.get("active", "").lower()
    if active_text and active_text not in TRUE_WORDS | FALSE_WORDS:
        problem("active", "bad_active", "Write yes or no.")
    if len(problems) > before:
        return None
    return ItemRecord(
        code=row["code"],
        framework=row["framework"],
        framework_version=row.get("framework_version", ""),
        competency=row["competency"],
        kind=kind,
        stem={lang: row[f"stem_{lang}"] for lang in LANGUAGES if row.get(f"stem_{lang}")},
        options=options if kind in ("single", "multiple") else [],
        correct=correct,
        true_false_answer=true_false,
        numeric_answer=numeric,
        tolerance=tolerance,
        explanation={
            lang: row[f"explanation_{lang}"] for lang in LANGUAGES if row.get(f"explanation_{lang}")
        },
        active=active_text not in FALSE_WORDS,
        location=where,
    )


def parse_csv(data: bytes) -> Parsed:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Parsed([], [Problem("1", "encoding", "Save the file as UTF-8 CSV.")])
    return parse_rows(csv.reader(io.StringIO(text)))


def parse_xlsx(data: bytes) -> Parsed:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        return Parsed([], [Problem("1", "unreadable", "This is not an XLSX workbook.")])
    sheet = workbook["items"] if "items" in workbook.sheetnames else workbook.worksheets[0]
    parsed = parse_rows(sheet.iter_rows(values_only=True))
    workbook.close()
    return parsed


def parse(data: bytes, fmt: str) -> Parsed:
    return parse_xlsx(data) if fmt == "xlsx" else parse_csv(data)


# --- writing ---------------------------------------------------------------------------


def _format_number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def record_row(record: ItemRecord) -> list[str]:
    if record.kind in ("single", "multiple"):
        answer = ";".join(str(n) for n in sorted(record.correct))
    elif record.kind == "true_false":
        answer = "true" if record.true_false_answer else "false"
    else:
        answer = _format_number(record.numeric_answer) if record.numeric_answer is not None else ""
    values: dict[str, str] = {
        "code": record.code,
        "framework": record.framework,
        "framework_version": record.framework_version,
        "competency": record.competency,
        "kind": record.kind,
        "answer": answer,
        "tolerance": _format_number(record.tolerance) if record.kind == "numeric" else "",
        "active": "yes" if record.active else "no",
    }
    for lang in LANGUAGES:
        values[f"stem_{lang}"] = record.stem.get(lang, "")
        values[f"explanation_{lang}"] = record.explanation.get(lang, "")
        texts = [o.get(lang, "") for o in record.options]
        values[f"options_{lang}"] = SEPARATOR.join(texts) if any(texts) else ""
    return [values[c] for c in COLUMNS]


def serialise_csv(records: Iterable[ItemRecord]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow(record_row(record))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def serialise_xlsx(records: Iterable[ItemRecord]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = "items"
    sheet.append(COLUMNS)
    for row, record in enumerate(records, start=2):
        for column, value in enumerate(record_row(record), start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            # Text starting with "=" is kept as text, never turned into a formula.
            cell.data_type = "s"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def serialise(records: Iterable[ItemRecord], fmt: str) -> bytes:
    return serialise_xlsx(records) if fmt == "xlsx" else serialise_csv(records)


# --- the shipped JSON item bank --------------------------------------------------------


def records_from_json(data: Mapping[str, Any]) -> tuple[list[ItemRecord], list[Problem]]:
    """The in-house JSON: {"framework": code, "items": [{code, competency, kind, stem: {lang:
    text}, options: [{lang: text}], answer, tolerance, explanation}]}; answers as in CSV."""
    rows: list[list[str]] = [COLUMNS]
    for item in data.get("items", []):
        values = {
            "code": item.get("code", ""),
            "framework": data.get("framework", ""),
            "framework_version": data.get("framework_version", ""),
            "competency": item.get("competency", ""),
            "kind": item.get("kind", ""),
            "answer": str(item.get("answer", "")).lower()
            if isinstance(item.get("answer"), bool)
            else str(item.get("answer", "")),
            "tolerance": str(item.get("tolerance", "")),
            "active": "yes",
        }
        for lang in LANGUAGES:
            values[f"stem_{lang}"] = item.get("stem", {}).get(lang, "")
            values[f"explanation_{lang}"] = item.get("explanation", {}).get(lang, "")
            texts = [o.get(lang, "") for o in item.get("options", [])]
            values[f"options_{lang}"] = SEPARATOR.join(texts) if all(texts) else ""
        rows.append([values[c] for c in COLUMNS])
    parsed = parse_rows(rows)
    for record in parsed.records:
        record.location = record.code
    return parsed.records, parsed.problems

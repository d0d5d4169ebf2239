"""Staff CSV/XLSX format: parsing, problems with row and column, round trips, safety."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from dataclasses import replace
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from educap.people.io.staff import (
    COLUMNS,
    REQUIRED_COLUMNS,
    Problem,
    StaffFileErrorCode,
    StaffRecord,
    escape_formula,
    iter_csv,
    parse_csv,
    parse_file,
    parse_xlsx,
    write_csv,
    write_xlsx,
)

HEADER = "staff_number,given_name,family_name,sex,unit_code,role_code"


def csv_bytes(*lines: str, bom: bool = False) -> bytes:
    return (("\ufeff" if bom else "") + "\n".join(lines) + "\n").encode()


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def codes(problems: list[Problem]) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.code) for p in problems]


# ------------------------------------------------------------------------- examples


def test_headers_are_trimmed_and_case_insensitive_and_bom_is_ignored() -> None:
    parsed = parse_csv(
        csv_bytes(
            " Staff_Number ,GIVEN_NAME,Family Name,sex,unit_code,Role_Code",
            "S1,Amal,Haddad,F,G1D1,teacher",
            bom=True,
        )
    )
    assert parsed.problems == []
    assert parsed.records == [StaffRecord("S1", "Amal", "Haddad", "F", "G1D1", "teacher")]
    assert parsed.records[0].row == 2


@pytest.mark.parametrize(
    ("word", "sex"),
    [
        ("F", "F"),
        ("m", "M"),
        ("Female", "F"),
        ("MALE", "M"),
        ("أنثى", "F"),
        ("انثى", "F"),
        ("ذكر", "M"),
        ("Femme", "F"),
        ("homme", "M"),
        ("H", "M"),
    ],
)
def test_sex_is_understood_in_several_languages(word: str, sex: str) -> None:
    parsed = parse_csv(csv_bytes(HEADER, f"S1,A,B,{word},U,r"))
    assert [r.sex for r in parsed.records] == [sex]


def test_each_problem_names_its_spreadsheet_row_and_column() -> None:
    parsed = parse_csv(
        csv_bytes(
            HEADER + ",birth_year,hire_date,active",
            "S1,Amal,Haddad,F,U,r,1980,2020-01-31,yes",
            "",  # blank rows are skipped but still counted, as a spreadsheet shows them
            "S 2,,Haddad,X,U,r,19800,31/01/2020,maybe",
            '"S3","Amal","Had\ndad",F,U,r,,,',
        )
    )
    assert codes(parsed.problems) == [
        (4, "staff_number", StaffFileErrorCode.INVALID_STAFF_NUMBER),
        (4, "given_name", StaffFileErrorCode.REQUIRED),
        (4, "sex", StaffFileErrorCode.INVALID_SEX),
        (4, "birth_year", StaffFileErrorCode.INVALID_YEAR),
        (4, "hire_date", StaffFileErrorCode.INVALID_DATE),
        (4, "active", StaffFileErrorCode.INVALID_BOOLEAN),
        (5, "family_name", StaffFileErrorCode.INVALID_TEXT),
    ]
    assert [r.staff_number for r in parsed.records] == ["S1"]
    assert parsed.records[0].hire_date == dt.date(2020, 1, 31)
    assert "31/01/2020" in parsed.problems[4].message


def test_missing_unknown_and_duplicate_columns_are_reported_on_row_one() -> None:
    parsed = parse_csv(
        csv_bytes("staff_number,given_name,sex,sex,unit_code,role_code,colour", "S1,A,F,F,U,r,red")
    )
    assert sorted(codes(parsed.problems)) == sorted(
        [
            (1, "family_name", StaffFileErrorCode.MISSING_COLUMN),
            (1, "sex", StaffFileErrorCode.DUPLICATE_COLUMN),
            (1, "colour", StaffFileErrorCode.UNKNOWN_COLUMN),
        ]
    )
    assert parsed.records == []


def test_values_longer_than_the_database_allows_are_problems() -> None:
    parsed = parse_csv(csv_bytes(HEADER, f"S1,{'x' * 101},B,F,U,r"))
    assert codes(parsed.problems) == [(2, "given_name", StaffFileErrorCode.TOO_LONG)]


def test_semicolon_separated_files_from_european_excel_are_read() -> None:
    parsed = parse_csv(csv_bytes(HEADER.replace(",", ";"), "S1;Amal;Haddad;F;U;r"))
    assert parsed.problems == []
    assert parsed.records[0].family_name == "Haddad"


def test_text_that_is_not_utf8_is_one_problem() -> None:
    parsed = parse_csv((HEADER + "\nS1,Ren\xe9e,B,F,U,r\n").encode("latin-1"))
    assert codes(parsed.problems) == [(2, "", StaffFileErrorCode.NOT_UTF8)]


def test_optional_columns_present_are_remembered_on_each_record() -> None:
    parsed = parse_csv(csv_bytes(HEADER + ",email", "S1,A,B,F,U,r,"))
    assert parsed.records[0].columns == frozenset({"email"})


def test_xlsx_date_and_number_cells_are_accepted() -> None:
    data = xlsx_bytes(
        [
            [
                *("Staff_Number", "given_name", "family_name", "sex", "unit_code", "role_code"),
                *("birth_year", "hire_date", "start_date", "active", "phone"),
            ],
            [
                *(1234, "Amal", "Haddad", "F", "G1D1", "teacher"),
                *(1980, dt.datetime(2020, 1, 31), dt.date(2024, 9, 1), True, 962790000000),
            ],
            [None] * 11,
            ["S2", "Omar", "Nasser", "m", "G1D1", "teacher", 1975.0, "2021-02-03", None, "no"],
        ]
    )
    parsed = parse_xlsx(data)
    assert parsed.problems == []
    first, second = parsed.records
    assert (first.staff_number, first.birth_year, first.hire_date, first.start_date) == (
        "1234",
        1980,
        dt.date(2020, 1, 31),
        dt.date(2024, 9, 1),
    )
    assert first.phone == "962790000000"
    assert (second.row, second.sex, second.birth_year, second.active) == (4, "M", 1975, False)


def test_a_broken_workbook_is_one_problem() -> None:
    assert codes(parse_xlsx(b"PK\x03\x04 not really a zip").problems) == [
        (0, "", StaffFileErrorCode.UNREADABLE)
    ]
    assert codes(parse_file("staff.ods", b"").problems) == [(0, "", StaffFileErrorCode.UNREADABLE)]
    assert codes(parse_csv(b"").problems) == [(0, "", StaffFileErrorCode.EMPTY)]


@pytest.mark.parametrize("text", ["=1+2", "+962 7", "-5", "@SUM(A1)", "'quoted"])
def test_exports_defuse_formulas_and_read_back_the_same(text: str) -> None:
    record = StaffRecord("S1", text, "B", "F", "U", "r", phone=text)
    lines = list(iter_csv([record], bom=False))
    assert lines[1].split(",")[1] == "'" + text
    assert escape_formula(text) == "'" + text
    assert parse_csv("".join(lines).encode()).records == [record]

    out = io.BytesIO()
    write_xlsx([record], out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet is not None
    cell = sheet.cell(row=2, column=COLUMNS.index("given_name") + 1)
    assert (cell.value, cell.data_type) == ("'" + text, "s")
    assert parse_xlsx(out.getvalue()).records == [record]


def test_csv_export_starts_with_a_bom_for_excel() -> None:
    out = io.StringIO()
    assert write_csv([StaffRecord("S1", "A", "B", "F", "U", "r")], out) == 1
    assert out.getvalue().startswith("\ufeffstaff_number,given_name")


# ------------------------------------------------------------------------- properties

# Text a person's name may hold: no control characters, no surrogates or unassigned code
# points, already trimmed and in NFC (the parser trims and normalises).
_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cn")), min_size=1, max_size=30
).filter(lambda t: t == t.strip() and unicodedata.is_normalized("NFC", t))
_optional_text = st.one_of(st.just(""), _text)
_staff_number = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.\-]{0,20}\Z")
_date = st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)))

records = st.builds(
    StaffRecord,
    staff_number=_staff_number,
    given_name=_text,
    family_name=_text,
    sex=st.sampled_from(["F", "M"]),
    unit_code=_text,
    role_code=_text,
    name_local=_optional_text,
    national_id=_optional_text,
    birth_year=st.one_of(st.none(), st.integers(1000, 9999)),
    hire_date=_date,
    email=_optional_text,
    phone=_optional_text,
    supervisor_staff_number=st.one_of(st.just(""), _staff_number),
    start_date=_date,
    active=st.booleans(),
)


def _numbered(items: list[StaffRecord]) -> list[StaffRecord]:
    return [replace(r, row=i) for i, r in enumerate(items, start=2)]


@given(st.lists(records, max_size=8))
@settings(max_examples=150, deadline=None)
def test_csv_round_trip(items: list[StaffRecord]) -> None:
    out = io.StringIO()
    write_csv(items, out)
    parsed = parse_csv(out.getvalue().encode())
    assert parsed.problems == []
    assert parsed.records == items
    assert [r.row for r in parsed.records] == [r.row for r in _numbered(items)]


@given(st.lists(records, max_size=5))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_xlsx_round_trip(items: list[StaffRecord]) -> None:
    out = io.BytesIO()
    write_xlsx(items, out)
    parsed = parse_xlsx(out.getvalue())
    assert parsed.problems == []
    assert parsed.records == items


_cell = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["F", "M", "ذكر", "yes", "no", "2024-01-31", "1980", "'=1", ""]),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
)
_header = st.lists(
    st.sampled_from([*COLUMNS, "Staff Number", "extra", "", " SEX "]), min_size=0, max_size=18
)


def _check_problems(parsed: Any, rows: int) -> None:
    for problem in parsed.problems:
        assert isinstance(problem.message, str)
        assert problem.message
        assert 0 <= problem.row <= rows + 1
    for record in parsed.records:
        assert set(REQUIRED_COLUMNS) <= set(record.__dataclass_fields__)
        assert record.sex in {"F", "M"}


@given(st.binary(max_size=400))
@settings(max_examples=200, deadline=None)
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    for parse in (parse_csv, parse_xlsx):
        parsed = parse(data)
        _check_problems(parsed, data.count(b"\n") + data.count(b"\r") + 1)


@given(_header, st.lists(st.lists(st.text(max_size=15), max_size=18), max_size=6))
@settings(max_examples=200, deadline=None)
def test_arbitrary_csv_text_gives_records_or_problems(header: list[str], rows: list[Any]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    parsed = parse_csv(out.getvalue().encode("utf-8", "surrogatepass"))
    _check_problems(parsed, out.getvalue().count("\n") + out.getvalue().count("\r") + 1)


@given(_header, st.lists(st.lists(_cell, max_size=18), max_size=5))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_xlsx_cells_give_records_or_problems(header: list[str], rows: list[Any]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        # openpyxl refuses to store control characters; what it can store, we must read.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    out = io.BytesIO()
    workbook.save(out)
    _check_problems(parse_xlsx(out.getvalue()), len(rows))


def test_xlsx_export_drops_control_characters_before_defusing_formulas() -> None:
    record = StaffRecord("S1", "\x01=1+2", "B\x00", "F", "U", "r")
    out = io.BytesIO()
    write_xlsx([record], out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet is not None
    assert [c.value for c in sheet[2][1:3]] == ["'=1+2", "B"]
    assert sheet.cell(row=2, column=2).data_type == "s"

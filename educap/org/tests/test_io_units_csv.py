"""CSV parse/serialise for org units: pure functions, no database."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from educap.org.io.records import OrgImportErrorCode, Problem
from educap.org.io.units_csv import (
    UnitRecord,
    parse_units_csv,
    protect_cell,
    units_csv_text,
    unprotect_cell,
    write_units_csv,
)


def problem_keys(problems: list[Problem]) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.code) for p in problems]


def test_parses_bom_case_insensitive_header_and_optional_columns() -> None:
    data = (
        "\ufeff Code , NAME,Level,parent_code,name_ar,external_id\r\n"
        "MOE,Ministry,ministry,,وزارة,dhis-1\r\n"
        ' G1 ,"Governorate, one", governorate ,MOE,,\r\n'
    ).encode()
    records, problems = parse_units_csv(data)
    assert problems == []
    assert records == [
        UnitRecord(
            row=2,
            code="MOE",
            name="Ministry",
            names={"ar": "وزارة"},
            level_code="ministry",
            parent_code="",
            external_id="dhis-1",
        ),
        UnitRecord(
            row=3, code="G1", name="Governorate, one", level_code="governorate", parent_code="MOE"
        ),
    ]


def test_missing_required_columns_are_reported_on_the_header_row() -> None:
    records, problems = parse_units_csv("code,name\nA,Alpha\n")
    assert records == []
    assert problem_keys(problems) == [
        (1, "level", OrgImportErrorCode.MISSING_COLUMN),
        (1, "parent_code", OrgImportErrorCode.MISSING_COLUMN),
    ]


def test_bad_rows_are_reported_with_row_and_column() -> None:
    text = (
        "code,name,level,parent_code,external_id\n"
        ",No code,district,\n"  # row 2
        "B,,district,\n"  # row 3
        "C,Gamma,,\n"  # row 4
        "D,Delta,district,,E1\n"  # row 5
        "D,Delta again,district,,\n"  # row 6
        "F,Phi,district,,E1\n"  # row 7
        "G,Gee,district,G\n"  # row 8
        "H,Aitch,district,,,surplus\n"  # row 9
        ",,,,\n"  # blank: skipped
    )
    records, problems = parse_units_csv(text)
    assert [r.code for r in records] == ["D"]
    assert problem_keys(problems) == [
        (2, "code", OrgImportErrorCode.REQUIRED),
        (3, "name", OrgImportErrorCode.REQUIRED),
        (4, "level", OrgImportErrorCode.REQUIRED),
        (6, "code", OrgImportErrorCode.DUPLICATE_CODE),
        (7, "external_id", OrgImportErrorCode.DUPLICATE_EXTERNAL_ID),
        (8, "parent_code", OrgImportErrorCode.CYCLE),
        (9, "", OrgImportErrorCode.TOO_MANY_CELLS),
    ]
    assert "row 5" in problems[3].message  # points at the first use
    assert str(problems[0]) == f"row 2, column code: {problems[0].message}"


def test_unreadable_and_empty_files_are_problems_not_exceptions() -> None:
    assert problem_keys(parse_units_csv(b"code,name\xff\xfe").problems) == [
        (0, "", OrgImportErrorCode.FILE_UNREADABLE)
    ]
    assert problem_keys(parse_units_csv(b"").problems) == [(0, "", OrgImportErrorCode.FILE_EMPTY)]
    assert problem_keys(parse_units_csv("code,name,level,parent_code\n").problems) == [
        (0, "", OrgImportErrorCode.FILE_EMPTY)
    ]
    huge = "code,name,level,parent_code\nA," + '"' + "x" * 200_000 + '"' + ",l,\n"
    assert problem_keys(parse_units_csv(huge).problems) == [
        (2, "", OrgImportErrorCode.FILE_UNREADABLE)
    ]


def test_export_protects_against_formula_injection() -> None:
    record = UnitRecord(
        row=0,
        code="A1",
        name='=HYPERLINK("http://x")',
        level_code="school",
        parent_code="",
        external_id="@SUM(1)",
    )
    out = io.StringIO()
    assert write_units_csv([record], out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == "code,name,level,parent_code,external_id"
    assert lines[1] == 'A1,"\'=HYPERLINK(""http://x"")",school,,\'@SUM(1)'
    # ... and reading the export back gives the original text.
    assert parse_units_csv(out.getvalue()).records[0].name == record.name


def test_protect_and_unprotect_are_inverse() -> None:
    for value in ["=1", "+1", "-1", "@a", "\tx", "\rx", "'=1", "''", "'a", "'", "plain", ""]:
        assert unprotect_cell(protect_cell(value)) == value
        assert not protect_cell(value).startswith(("=", "+", "-", "@", "\t", "\r"))


# --- property tests -------------------------------------------------------------------------

codes = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,12}", fullmatch=True)
clean_text = st.text(min_size=1, max_size=30).map(str.strip).filter(bool)
level_codes = st.sampled_from(["ministry", "governorate", "district", "school"])


@st.composite
def unit_trees(draw: st.DrawFn) -> list[UnitRecord]:
    """A valid hierarchy: unique codes and external ids, parents among earlier units."""
    unit_codes = draw(st.lists(codes, min_size=1, max_size=25, unique=True))
    external_ids = draw(
        st.lists(st.one_of(st.just(""), codes), min_size=len(unit_codes), max_size=len(unit_codes))
    )
    seen_external: set[str] = set()
    records = []
    for i, code in enumerate(unit_codes):
        external_id = external_ids[i] if external_ids[i] not in seen_external else ""
        seen_external.add(external_id)
        parent = draw(st.sampled_from(["", *unit_codes[:i]])) if i else ""
        names = draw(st.dictionaries(st.sampled_from(["ar", "fr", "lo"]), clean_text, max_size=3))
        records.append(
            UnitRecord(
                row=i + 2,
                code=code,
                name=draw(clean_text),
                names=names,
                level_code=draw(level_codes),
                parent_code=parent,
                external_id=external_id,
            )
        )
    return records


@given(unit_trees())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_round_trip_of_any_valid_tree(records: list[UnitRecord]) -> None:
    text = units_csv_text(records, name_languages=("ar", "fr", "lo"))
    parsed = parse_units_csv(text.encode("utf-8-sig"))
    assert parsed.problems == []
    assert parsed.records == records


@given(unit_trees())
@settings(max_examples=50, deadline=None)
def test_round_trip_without_translations_keeps_everything_else(records: list[UnitRecord]) -> None:
    parsed = parse_units_csv(units_csv_text(records))
    assert parsed.problems == []

    def key(r: UnitRecord) -> tuple[str, ...]:
        return (r.code, r.name, r.level_code, r.parent_code, r.external_id)

    assert [key(r) for r in parsed.records] == [key(r) for r in records]


@given(st.binary(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_only_ever_give_problems(data: bytes) -> None:
    records, problems = parse_units_csv(data)
    assert all(isinstance(p, Problem) and p.message for p in problems)
    assert records or problems


@given(
    st.lists(
        st.lists(st.text(max_size=12), max_size=7).map(lambda cells: ",".join(cells)),
        max_size=12,
    ).map(lambda lines: "code,name,level,parent_code,external_id\n" + "\n".join(lines))
)
@settings(max_examples=300, deadline=None)
def test_arbitrary_text_under_a_valid_header_only_ever_gives_problems(text: str) -> None:
    records, problems = parse_units_csv(text)
    assert all(isinstance(p, Problem) and p.row >= 0 for p in problems)
    assert len({r.code for r in records}) == len(records)  # duplicates never get through
    assert all(r.code and r.name and r.level_code for r in records)

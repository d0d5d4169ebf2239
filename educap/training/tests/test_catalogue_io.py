"""The catalogue file format (CSV/XLSX): round trips, problems by row and column, junk."""

from __future__ import annotations

import io
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from educap.training.io.catalogue import (
    COLUMNS,
    MODALITIES,
    PROVIDER_KINDS,
    TRACKS,
    CompetencyRef,
    CourseRecord,
    parse,
    parse_csv,
    parse_rows,
    parse_xlsx,
    serialise_csv,
    serialise_xlsx,
)

# Cell text as people type it: printable, trimmed, any script; formulas included on purpose.
text = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)
formula_like = st.sampled_from(["=1+1", "+SUM(A1)", "-2", "@cmd", "'quoted", "''=x"])
cell_text = st.one_of(text, formula_like)
code = st.from_regex(r"[A-Z][A-Z0-9_.-]{0,15}", fullmatch=True)
texts = st.fixed_dictionaries({"en": cell_text}, optional={"ar": text, "fr": text, "lo": text})
# Descriptions run over several lines.
paragraphs = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n"),
        min_size=1,
        max_size=60,
    )
    .map(str.strip)
    .filter(bool)
)
long_texts = st.fixed_dictionaries({"en": paragraphs}, optional={"ar": paragraphs})
hours = st.decimals(Decimal("0.1"), Decimal(500), places=1)
money = st.decimals(0, 10**6, places=2)
competency = st.builds(
    CompetencyRef,
    framework=st.sampled_from(["EMIS-STAFF", "F.2"]),
    item=st.sampled_from(["DQ.1", "DQ.2", "SA.1", "LM-3"]),
    level=st.integers(0, 4),
    version=st.sampled_from(["", "1.0", "2026b"]),
)


def _unique_competencies(refs: list[CompetencyRef]) -> list[CompetencyRef]:
    seen, out = set(), []
    for ref in refs:
        key = (ref.framework, ref.version, ref.item)
        if key not in seen:
            seen.add(key)
            out.append(ref)
    return out


@st.composite
def records(draw) -> CourseRecord:
    course_code = draw(code)
    return CourseRecord(
        code=course_code,
        title=draw(texts),
        description=draw(st.one_of(st.just({}), long_texts)),
        duration_hours=draw(hours),
        programme=draw(st.one_of(st.just(""), code)),
        programme_title=draw(st.one_of(st.just({}), texts)),
        track=draw(st.sampled_from(TRACKS)),
        modality=draw(st.sampled_from(MODALITIES)),
        cpd_credits=draw(st.decimals(0, 100, places=1)),
        provider_kind=draw(st.sampled_from(PROVIDER_KINDS)),
        provider_name=draw(st.one_of(st.just(""), cell_text)),
        prerequisites=draw(
            st.lists(code.filter(lambda c: c != course_code), max_size=3, unique=True)
        ),
        target_roles=draw(
            st.lists(st.sampled_from(["emis_officer", "teacher", "data_clerk"]), unique=True)
        ),
        competencies=draw(st.lists(competency, max_size=4).map(_unique_competencies)),
        cost_per_cohort=draw(money),
        cost_per_participant=draw(money),
        min_attendance_percent=draw(st.integers(0, 100)),
        pass_mark=draw(st.one_of(st.none(), st.integers(0, 100))),
        records_evidence=draw(st.booleans()),
        active=draw(st.booleans()),
    )


def _key(r: CourseRecord) -> tuple:
    return (
        r.code,
        r.title,
        r.description,
        r.duration_hours,
        r.programme,
        r.programme_title,
        r.track,
        r.modality,
        r.cpd_credits,
        r.provider_kind,
        r.provider_name,
        r.prerequisites,
        r.target_roles,
        r.competencies,
        r.cost_per_cohort,
        r.cost_per_participant,
        r.min_attendance_percent,
        r.pass_mark,
        r.records_evidence,
        r.active,
    )


def _unique(items: list[CourseRecord]) -> list[CourseRecord]:
    seen, out = set(), []
    for r in items:
        if r.code not in seen:
            seen.add(r.code)
            out.append(r)
    return out


@given(st.lists(records(), max_size=6).map(_unique))
def test_csv_round_trip(items: list[CourseRecord]) -> None:
    parsed = parse_csv(serialise_csv(items))
    assert parsed.problems == []
    assert [_key(r) for r in parsed.records] == [_key(r) for r in items]


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), max_size=4).map(_unique))
def test_xlsx_round_trip(items: list[CourseRecord]) -> None:
    parsed = parse_xlsx(serialise_xlsx(items))
    assert parsed.problems == []
    assert [_key(r) for r in parsed.records] == [_key(r) for r in items]


junk_cell = st.one_of(
    st.none(),
    st.text(max_size=25),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)


@given(st.lists(st.lists(junk_cell, max_size=len(COLUMNS) + 2), max_size=6))
def test_junk_rows_never_crash_and_every_bad_row_is_reported(rows) -> None:
    parsed = parse_rows([COLUMNS, *rows])
    reported = {p.row for p in parsed.problems}
    for record in parsed.records:
        assert record.row not in reported
        assert record.code
        assert record.title["en"]
        assert record.duration_hours > 0
    for problem in parsed.problems:
        assert problem.row >= 2
        assert problem.message


@given(st.binary(max_size=300))
def test_random_bytes_give_problems_not_crashes(data: bytes) -> None:
    for fmt in ("csv", "xlsx"):
        parsed = parse(data, fmt)
        assert parsed.records == [] or fmt == "csv"


@settings(max_examples=30)
@given(st.lists(st.lists(st.text(max_size=12), max_size=5), min_size=1, max_size=5))
def test_any_header_is_accepted_or_refused_cleanly(rows) -> None:
    parsed = parse_rows(rows)
    if parsed.records:
        assert {"code", "title_en", "duration_hours"} <= {h.strip().lower() for h in rows[0]}


def _row(**values: str) -> list[str]:
    base = dict.fromkeys(COLUMNS, "")
    base.update(values)
    return [base[c] for c in COLUMNS]


def test_problems_name_row_and_column() -> None:
    parsed = parse_rows(
        [
            COLUMNS,
            _row(code="OK-1", title_en="Fine", duration_hours="6"),
            _row(
                code="BAD 1",
                title_en="",
                duration_hours="0",
                track="expert",
                cpd_credits="1.25",
                pass_mark="101",
                records_evidence="maybe",
                competencies="EMIS-STAFF:DQ.2 EMIS-STAFF:DQ.1=3",
                prerequisites="BAD?",
            ),
            _row(code="OK-1", title_en="Again", duration_hours="2"),
        ]
    )
    assert [r.code for r in parsed.records] == ["OK-1"]
    found = {(p.row, p.column, p.code) for p in parsed.problems}
    assert found == {
        (3, "code", "bad_code"),
        (3, "title_en", "missing"),
        (3, "duration_hours", "bad_number"),
        (3, "track", "bad_choice"),
        (3, "cpd_credits", "too_many_decimals"),
        (3, "pass_mark", "bad_percent"),
        (3, "records_evidence", "bad_yes_no"),
        (3, "competencies", "bad_competency"),
        (3, "prerequisites", "bad_code"),
        (4, "code", "duplicate_code"),
    }


def test_header_problems() -> None:
    assert parse_rows([["code", "bogus"]]).problems[0].code == "unknown_column"
    assert {p.code for p in parse_rows([["code"]]).problems} == {"missing_column"}
    repeated = parse_rows([["code", "title_en", "duration_hours", "code"]])
    assert repeated.problems[0].code == "repeated_column"
    assert parse_rows([]).problems[0].code == "empty"
    assert parse_csv(b"\xff\xfe\x00").problems[0].code == "encoding"
    assert parse_xlsx(b"not a workbook").problems[0].code == "unreadable"


def test_labels_aliases_semicolons_and_partial_columns() -> None:
    data = (
        b"code;title_en;duration_hours;modality;track;provider_kind;competencies\n"
        b"A-1;Data quality;7,5;Face-to-face;role-specific;Online platform;"
        b"EMIS-STAFF@1.0:DQ.2=3, EMIS-STAFF:SA.1=2\n"
    )
    parsed = parse_csv(data)
    assert parsed.problems == []
    (record,) = parsed.records
    assert record.duration_hours == Decimal("7.5")
    assert (record.modality, record.track, record.provider_kind) == ("face", "role", "online")
    assert [str(c) for c in record.competencies] == ["EMIS-STAFF@1.0:DQ.2=3", "EMIS-STAFF:SA.1=2"]
    assert record.has("modality")
    assert not record.has("cpd_credits")


def test_export_protects_formulas() -> None:
    record = CourseRecord(code="F-1", title={"en": "=HYPERLINK(1)"}, duration_hours=Decimal(1))
    csv_text = serialise_csv([record]).decode("utf-8")
    assert "'=HYPERLINK(1)" in csv_text
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(serialise_xlsx([record]))).active
    cell = sheet.cell(row=2, column=COLUMNS.index("title_en") + 1)
    assert cell.data_type == "s"
    assert cell.value == "'=HYPERLINK(1)"
    assert parse_csv(csv_text.encode()).records[0].title["en"] == "=HYPERLINK(1)"

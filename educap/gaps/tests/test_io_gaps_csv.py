"""The gap CSV format: what is written is read back unchanged (ratios to 4 decimals)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from educap.gaps.io.gaps_csv import (
    GapCsvError,
    PersonGapRow,
    UnitGapRow,
    iter_person_csv,
    iter_unit_csv,
    parse_person_csv,
    parse_unit_csv,
    round_ratio,
    write_lines,
)

# Any text a code or staff number might hold, formula triggers and quotes included.
texts = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
counts = st.integers(min_value=0, max_value=10**7)
ratios = st.none() | st.floats(min_value=0, max_value=10, allow_nan=False)

person_rows = st.builds(
    PersonGapRow,
    person_id=st.integers(min_value=1, max_value=2**40),
    staff_number=texts,
    unit_code=texts,
    role_code=texts,
    sex=st.sampled_from(["F", "M", ""]),
    competency_code=texts,
    required=st.integers(min_value=0, max_value=9),
    current=st.none() | st.integers(min_value=0, max_value=9),
)
unit_rows = st.builds(
    UnitGapRow,
    unit_code=texts,
    level_code=texts,
    competency_code=texts,
    in_scope=counts,
    assessed=counts,
    meeting=counts,
    below=counts,
    unknown=counts,
    mean_gap=ratios.map(round_ratio),
    weighted_gap_index=ratios.map(round_ratio),
)


def _text(lines) -> str:
    out = io.StringIO(newline="")
    write_lines(lines, out)
    return out.getvalue()


@given(st.lists(person_rows, max_size=20), st.booleans())
def test_person_rows_round_trip(rows, bom):
    assert list(parse_person_csv(_text(iter_person_csv(rows, bom=bom)))) == rows


@given(st.lists(unit_rows, max_size=20), st.booleans())
def test_unit_rows_round_trip(rows, bom):
    assert list(parse_unit_csv(_text(iter_unit_csv(rows, bom=bom)))) == rows


def test_unknown_is_empty_and_ratios_are_short():
    rows = [PersonGapRow(7, "S1", "G1", "teacher", "F", "D1.1", 3, None)]
    text = _text(iter_person_csv(rows, bom=False))
    assert text.splitlines()[1] == "7,S1,G1,teacher,F,D1.1,3,,"
    unit = UnitGapRow("G1", "governorate", "D1.1", 8, 4, 2, 2, 4, 0.5, 1 / 3)
    assert _text(iter_unit_csv([unit], bom=False)).splitlines()[1] == (
        "G1,governorate,D1.1,8,4,2,2,4,0.5,0.3333"
    )


def test_suppressed_cells_read_as_below_the_threshold():
    hidden = UnitGapRow("G2", "governorate", "D1.1", *[None] * 7, suppressed=True)
    text = _text(iter_unit_csv([hidden], bom=False, small_cell=5))
    assert text.splitlines()[1] == "G2,governorate,D1.1,<5,<5,<5,<5,<5,,"
    assert list(parse_unit_csv(text)) == [hidden]


def test_formula_cells_are_escaped():
    rows = [PersonGapRow(1, "=cmd()", "'=x", "teacher", "F", "@x", 2, 1)]
    text = _text(iter_person_csv(rows, bom=False))
    assert "'=cmd()" in text
    assert "'@x" in text
    assert list(parse_person_csv(text)) == rows


@pytest.mark.parametrize(
    "text",
    [
        "",
        "unit_code,level\r\n",
        "person_id,staff_number,unit_code,role_code,sex,competency_code,required,current,gap\r\n"
        "1,S1,G1,t,F,D1,3,1,0\r\n",  # the gap does not follow
        "person_id,staff_number,unit_code,role_code,sex,competency_code,required,current,gap\r\n"
        "x,S1,G1,t,F,D1,3,1,2\r\n",
    ],
)
def test_malformed_files_are_refused(text):
    with pytest.raises(GapCsvError):
        list(parse_person_csv(text))

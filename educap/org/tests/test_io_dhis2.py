"""DHIS2 organisation-unit JSON: pure parse, no database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from educap.org.io.dhis2 import dhis2_orgunits_json, generated_code, parse_dhis2_orgunits
from educap.org.io.records import OrgImportErrorCode, Problem, UnitRecord

DATA = Path(__file__).parent / "data"


def parse_units(units: list[Any]) -> tuple[list[UnitRecord], list[tuple[int, str, str]]]:
    records, problems = parse_dhis2_orgunits(json.dumps({"organisationUnits": units}))
    return records, [(p.row, p.column, p.code) for p in problems]


def test_sample_file_with_parents_after_children() -> None:
    records, problems = parse_dhis2_orgunits((DATA / "dhis2_orgunits.json").read_bytes())
    assert problems == []
    by_uid = {r.external_id: r for r in records}
    school = by_uid["Sch0000001a"]
    assert school.code == "SCH-001"
    assert school.parent_code == "Dst0000001a"  # the parent has no code: its uid is its code
    assert school.parent_external_id == ""
    assert school.level_depth == 3
    assert school.names == {"ar": "مدرسة النور", "fr": "École Lumière"}
    assert school.opened_on == dt.date(2001, 9, 1)
    assert school.closed_on is None
    assert by_uid["Moe0000001a"].parent_code == ""
    assert by_uid["Moe0000001a"].level_depth == 0


def test_parent_outside_the_file_is_left_for_the_service() -> None:
    records, problems = parse_units([{"id": "u1", "name": "A", "parent": {"id": "elsewhere"}}])
    assert problems == []
    assert (records[0].parent_code, records[0].parent_external_id) == ("", "elsewhere")


def test_code_falls_back_to_uid_then_to_a_stable_generated_code() -> None:
    units = [
        {"name": "No ids", "parent": {"id": "p1"}},
        {"name": "No ids", "parent": {"id": "p1"}},
        {"id": "p1", "name": "Parent"},
    ]
    records, problems = parse_units(units)
    assert problems == []
    base = generated_code("No ids", "p1")
    assert [r.code for r in records] == [base, f"{base}-2", "p1"]
    assert base.startswith("OU-")
    assert parse_units(units)[0] == records  # deterministic


def test_names_from_short_name_and_translations_by_language() -> None:
    records, problems = parse_units(
        [
            {
                "id": "u1",
                "shortName": " Short ",
                "translations": [
                    {"property": "NAME", "locale": "ar_SD", "value": "اسم"},
                    {"property": "SHORT_NAME", "locale": "fr", "value": "ignored"},
                    {"property": "NAME", "locale": "lo", "value": "ຊື່"},
                    {"property": "NAME", "locale": "es", "value": "nombre"},
                ],
            }
        ]
    )
    assert problems == []
    assert records[0].name == "Short"
    assert records[0].names == {"ar": "اسم", "lo": "ຊື່"}


def test_files_that_are_not_organisation_unit_lists_are_rejected() -> None:
    def keys(data: str | bytes) -> list[tuple[int, str, str]]:
        return [(p.row, p.column, p.code) for p in parse_dhis2_orgunits(data).problems]

    unreadable = (0, "", OrgImportErrorCode.FILE_UNREADABLE)
    structure = (0, "", OrgImportErrorCode.FILE_STRUCTURE)
    assert keys("{not json") == [unreadable]
    assert keys(b"\xff\xfe{}") == [unreadable]
    assert keys("[" * 100_000 + "]" * 100_000) == [unreadable]  # too deep: no crash
    assert keys("[]") == [structure]
    assert keys('{"organisationUnits": {}}') == [structure]
    assert keys('{"units": []}') == [structure]
    assert keys('{"organisationUnits": []}') == [(0, "", OrgImportErrorCode.FILE_EMPTY)]


def test_bad_units_are_reported_with_their_position_and_field() -> None:
    _records, problems = parse_units(
        [
            "not an object",  # 1
            {"id": "u2", "name": " "},  # 2: no name
            {"id": "u3", "name": "A", "level": 0},  # 3
            {"id": "u4", "name": "A", "level": "2"},  # 4
            {"id": "u5", "name": "A", "parent": "u1"},  # 5
            {"id": "u6", "name": "A", "openingDate": "yesterday"},  # 6
            {"id": "u7", "name": 7},  # 7
            {"id": "u8", "code": "C", "name": "A"},  # 8
            {"id": "u8", "name": "Again"},  # 9: duplicate id
            {"id": "u10", "code": "C", "name": "B"},  # 10: duplicate code
            {"id": "u11", "name": "Self", "parent": {"id": "u11"}},  # 11
            {"id": "u12", "name": "A", "translations": "NAME=x"},  # 12
        ]
    )
    assert problems == [
        (1, "", OrgImportErrorCode.FILE_STRUCTURE),
        (2, "name", OrgImportErrorCode.REQUIRED),
        (3, "level", OrgImportErrorCode.INVALID_VALUE),
        (4, "level", OrgImportErrorCode.INVALID_VALUE),
        (5, "parent", OrgImportErrorCode.INVALID_VALUE),
        (6, "openingDate", OrgImportErrorCode.INVALID_VALUE),
        (7, "name", OrgImportErrorCode.INVALID_VALUE),
        (9, "id", OrgImportErrorCode.DUPLICATE_EXTERNAL_ID),
        (11, "parent", OrgImportErrorCode.CYCLE),
        (12, "translations", OrgImportErrorCode.INVALID_VALUE),
        (10, "code", OrgImportErrorCode.DUPLICATE_CODE),
    ]


def test_cycles_are_rejected() -> None:
    records, problems = parse_units(
        [
            {"id": "a", "name": "A", "parent": {"id": "b"}},
            {"id": "b", "name": "B", "parent": {"id": "c"}},
            {"id": "c", "name": "C", "parent": {"id": "a"}},
            {"id": "d", "name": "D", "parent": {"id": "a"}},  # under the loop, not on it
            {"id": "e", "name": "E"},
        ]
    )
    assert sorted(problems) == [
        (1, "parent", OrgImportErrorCode.CYCLE),
        (2, "parent", OrgImportErrorCode.CYCLE),
        (3, "parent", OrgImportErrorCode.CYCLE),
    ]
    assert [r.code for r in records] == ["d", "e"]


# --- property tests -------------------------------------------------------------------------

uids = st.from_regex(r"[A-Za-z][A-Za-z0-9]{10}", fullmatch=True)
codes = st.from_regex(r"[A-Z0-9][A-Z0-9_.\-]{0,8}", fullmatch=True).map(lambda c: f"C{c}")
clean_text = st.text(min_size=1, max_size=30).map(str.strip).filter(bool)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1))


@st.composite
def dhis2_trees(draw: st.DrawFn) -> list[UnitRecord]:
    """A valid tree with uids; parents anywhere in the list, some outside the file."""
    unit_uids = draw(st.lists(uids, min_size=1, max_size=20, unique=True))
    unit_codes = draw(
        st.lists(codes, min_size=len(unit_uids), max_size=len(unit_uids), unique=True)
    )
    # Parents come from earlier in a random order: a tree, listed in any order.
    order = draw(st.permutations(range(len(unit_uids))))
    records = []
    for position, i in enumerate(order):
        parent_index = draw(st.sampled_from([None, *order[:position]]))
        outside = draw(st.one_of(st.just(""), uids.map(lambda u: f"X{u}")))
        depth = draw(st.one_of(st.none(), st.integers(0, 6)))
        records.append(
            UnitRecord(
                row=0,
                code=unit_codes[i],
                name=draw(clean_text),
                names=draw(st.dictionaries(st.sampled_from(["ar", "fr", "lo"]), clean_text)),
                parent_code=unit_codes[parent_index] if parent_index is not None else "",
                external_id=unit_uids[i],
                parent_external_id=outside if parent_index is None else "",
                level_depth=depth,
                opened_on=draw(st.one_of(st.none(), dates)),
                closed_on=draw(st.one_of(st.none(), dates)),
            )
        )
    shuffled = draw(st.permutations(records))
    return [
        UnitRecord(**{**{f: getattr(r, f) for f in r.__slots__}, "row": n})
        for n, r in enumerate(shuffled, start=1)
    ]


@given(dhis2_trees())
@settings(max_examples=150, deadline=None)
def test_round_trip_of_any_valid_tree(records: list[UnitRecord]) -> None:
    parsed = parse_dhis2_orgunits(dhis2_orgunits_json(records).encode())
    assert parsed.problems == []
    assert parsed.records == records


@given(st.binary(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_only_ever_give_problems(data: bytes) -> None:
    _records, problems = parse_dhis2_orgunits(data)
    assert all(isinstance(p, Problem) and p.message for p in problems)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "code",
                    "name",
                    "shortName",
                    "level",
                    "parent",
                    "openingDate",
                    "closedDate",
                    "translations",
                    "property",
                    "locale",
                    "value",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@given(st.lists(json_values, max_size=10))
@settings(max_examples=400, deadline=None)
def test_arbitrary_json_units_only_ever_give_problems(units: list[Any]) -> None:
    records, problems = parse_dhis2_orgunits(json.dumps({"organisationUnits": units}))
    assert all(isinstance(p, Problem) for p in problems)
    assert len({r.code for r in records}) == len(records)
    assert all(r.code and r.name for r in records)
    # Every unit either becomes a record or has its problem reported.
    kept = {r.row for r in records}
    reported = {p.row for p in problems}
    assert all(n in kept or n in reported or 0 in reported for n in range(1, len(units) + 1))

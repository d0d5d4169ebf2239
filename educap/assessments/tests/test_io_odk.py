"""Reading ODK Central / Kobo exports: pure parsing, no database."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from educap.assessments.io.odk import (
    FormLayout,
    Problem,
    QuestionLayout,
    SubmissionRow,
    map_columns,
    read_submissions,
    write_report,
)

LAYOUT = FormLayout(
    competencies=frozenset({"c_A.1", "c_A-2", "c_B.1"}),
    levels=frozenset(range(5)),
    questions={
        "q_tools": QuestionLayout("multiple", frozenset({"x", "y", "z"})),
        "q_years": QuestionLayout("number", min_value=Decimal(0), max_value=Decimal(40)),
        "q_note": QuestionLayout("text"),
    },
)


def rows_of(text: str, name: str = "f.csv") -> list[SubmissionRow | Problem]:
    return list(read_submissions(io.BytesIO(text.encode()), name, LAYOUT))


def test_group_paths_with_dash_or_slash_and_dashes_inside_names():
    header = ["SubmissionDate", "person", "source", "g-c_A-2", "g/sub/c_B.1", "KEY", "other"]
    columns, problems = map_columns(header, LAYOUT)
    assert problems == []
    kinds = {c.header: (c.kind, c.field) for c in columns}
    assert kinds["g-c_A-2"] == ("competency", "c_A-2")
    assert kinds["g/sub/c_B.1"] == ("competency", "c_B.1")
    assert kinds["KEY"] == ("id", "")
    assert "other" not in kinds


def test_missing_required_columns_are_file_problems():
    _columns, problems = map_columns(["person", "c_A.1"], LAYOUT)
    assert {p.column.split(" ")[0] for p in problems} == {"KEY", "SubmissionDate", "source"}
    assert all(p.row == 0 for p in problems)


def test_semicolon_csv_with_bom_and_split_select_multiple():
    text = "\ufeffperson;source;s/q_tools;s/q_tools/x;s/q_tools/z;_uuid;_submission_time\n"
    text += "P1;self;y;1;0;u1;2026-01-02T03:04:05\n"
    (row,) = rows_of(text)
    assert isinstance(row, SubmissionRow)
    assert row.answers == {"q_tools": ("x", "y")}
    assert row.submitted_at is not None
    assert row.submitted_at.tzinfo is not None


def test_bad_cells_name_row_and_column():
    text = "SubmissionDate,person,source,c_A.1,q_years,q_tools-x,KEY\n"
    text += "2026-01-02T03:04:05Z,P1,self,2,3,1,k1\n"
    text += "2026-01-02T03:04:05Z,P1,self,5,41,maybe,k2\n"
    rows = rows_of(text)
    assert rows[0].problems == []  # type: ignore[union-attr]
    bad = rows[1]
    assert isinstance(bad, SubmissionRow)
    assert [(p.row, p.column, p.code) for p in bad.problems] == [
        (3, "c_A.1", "level_not_on_scale"),
        (3, "q_years", "survey_answer_invalid"),
        (3, "q_tools-x", "survey_answer_invalid"),
    ]


def test_report_lists_row_id_column_and_problem():
    out = io.StringIO()
    write_report([Problem(4, "c_A.1", "level_not_on_scale", "bad", "uuid:1")], out)
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["row", "submission_id", "column", "code", "problem"],
        ["4", "uuid:1", "c_A.1", "level_not_on_scale", "bad"],
    ]


# --- properties -------------------------------------------------------------------------

competency_fields = sorted(LAYOUT.competencies)
answer_rows = st.lists(
    st.tuples(
        st.text("ABCDEFGHIJ0123456789", min_size=1, max_size=8),  # staff number
        st.sampled_from(["self", "supervisor"]),
        st.lists(st.none() | st.integers(0, 4), min_size=3, max_size=3),
        st.sets(st.sampled_from(["x", "y", "z"])),
    ),
    min_size=1,
    max_size=15,
)


def _export(rows, delimiter: str, split: bool, separator: str) -> str:
    header = ["SubmissionDate", "person", "source"]
    header += [f"grp{separator}{name}" for name in competency_fields]
    header += [f"sec{separator}q_tools"]
    if split:
        header += [f"sec{separator}q_tools{separator}{c}" for c in "xyz"]
    header += ["meta-instanceID"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    for n, (staff, source, levels, tools) in enumerate(rows):
        cells = ["2026-02-03T04:05:06.789Z", staff, source]
        cells += ["" if v is None else str(v) for v in levels]
        cells += ["" if split else " ".join(sorted(tools))]
        if split:
            cells += ["1" if c in tools else "0" for c in "xyz"]
        writer.writerow([*cells, f"uuid:{n}"])
    return out.getvalue()


@given(
    rows=answer_rows,
    delimiter=st.sampled_from([",", ";", "\t"]),
    split=st.booleans(),
    separator=st.sampled_from(["-", "/"]),
)
def test_property_exports_round_trip_in_every_dialect(rows, delimiter, split, separator):
    parsed = rows_of(_export(rows, delimiter, split, separator))
    assert len(parsed) == len(rows)
    digests = set()
    for number, (row, (staff, source, levels, tools)) in enumerate(
        zip(parsed, rows, strict=True), start=2
    ):
        assert isinstance(row, SubmissionRow)
        assert row.problems == []
        assert (row.row, row.person, row.source) == (number, staff, source)
        expected = {f: v for f, v in zip(competency_fields, levels, strict=True) if v is not None}
        assert row.levels == expected
        assert row.answers.get("q_tools", ()) == tuple(sorted(tools))
        digests.add((row.instance_id, row.digest()))
    # the digest does not depend on the dialect
    again = rows_of(_export(rows, ",", not split, "-" if separator == "/" else "/"))
    assert {(r.instance_id, r.digest()) for r in again} == digests  # type: ignore[union-attr]


@given(rows=answer_rows, data=st.data())
def test_property_one_corrupted_level_is_reported_on_its_row(rows, data):
    index = data.draw(st.integers(0, len(rows) - 1))
    field = data.draw(st.integers(0, 2))
    junk = data.draw(st.sampled_from(["5", "-1", "x", "2.5", "high"]))
    staff, source, levels, tools = rows[index]
    levels = list(levels)
    levels[field] = junk
    rows = [*rows[:index], (staff, source, levels, tools), *rows[index + 1 :]]
    parsed = rows_of(_export(rows, ",", False, "-"))
    problems = [p for r in parsed for p in r.problems]  # type: ignore[union-attr]
    assert [(p.row, p.column) for p in problems] == [(index + 2, f"grp-{competency_fields[field]}")]

"""Moodle competency framework CSV (tool_lpimportcsv): pure parse/serialise, no database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from educap.frameworks.io.moodle_csv import (
    HEADERS,
    MoodleCsvErrorCode,
    code_for_id_number,
    export_losses,
    html_to_text,
    parse,
    serialise,
    text_to_html,
)
from educap.frameworks.io.records import (
    LANGUAGES,
    FrameworkRecord,
    ItemRecord,
    LevelRecord,
    ParseResult,
    ProfileRecord,
    RelationRecord,
    ScaleRecord,
)

DATA = Path(__file__).parent / "data"
Code = MoodleCsvErrorCode
HEADER = ",".join(f'"{h}"' if " " in h else h for h in HEADERS) + "\n"
CONFIG_4 = (
    '"[{""scaleid"":""2""},{""id"":1,""scaledefault"":1,""proficient"":0},'
    '{""id"":3,""scaledefault"":0,""proficient"":1}]"'
)
FRAMEWORK_ROW = f',FW,"A framework",,1,"Low,Mid,High,Top",{CONFIG_4},,,,,,1,"domain,competency"\n'


def moodle_file(*rows: str, framework: str = FRAMEWORK_ROW) -> bytes:
    return (HEADER + framework + "".join(rows)).encode()


def competency(parent: str, id_number: str, name: str = "", related: str = "") -> str:
    return f'{parent},{id_number},"{name or id_number}",,1,,,,0,null,"{related}",,,\n'


def problem_keys(result: ParseResult) -> list[tuple[str, str, str]]:
    return [(p.location, p.column, p.code) for p in result.problems]


def by_code(result: ParseResult) -> dict[str, ItemRecord]:
    assert result.record is not None
    return {item.code: item for item in result.record.items}


# ------------------------------------------------------------- a real-world-shaped export


def test_reads_a_moodle_export_with_its_tree_scale_and_cross_references() -> None:
    result = parse((DATA / "moodle_emis_export.csv").read_bytes())
    assert result.problems == []
    record = result.record
    assert record is not None
    assert record.code == "EMIS-2024"
    assert record.title == {"en": "EMIS staff competencies"}
    assert record.description == {
        "en": "Competencies expected of staff who run the education management information"
        " system (EMIS).\n\nAdapted from the ministry's 2024 job descriptions & the UIS guidance."
    }
    assert record.scale is not None
    assert [(level.code, level.value, level.name) for level in record.scale.levels] == [
        ("0", 0, {"en": "Not yet competent"}),
        ("1", 1, {"en": "Developing"}),
        ("2", 2, {"en": "Competent"}),
        ("3", 3, {"en": "Expert"}),
    ]

    items = by_code(result)
    # Parents come first even though the file lists DC.1.1 and DC.1 before DC.
    assert [item.code for item in record.items] == [
        "DC", "DC.1", "DC.1.1", "DC.2", "DQ", "DQ.1", "DQ.2", "DQ.2.1", "PL", "PL.1",
    ]  # fmt: skip
    parent_code = {item.identifier: item.code for item in record.items}
    assert {code: parent_code.get(item.parent, "") for code, item in items.items()} == {
        "DC": "", "DC.1": "DC", "DC.1.1": "DC.1", "DC.2": "DC", "DQ": "", "DQ.1": "DQ",
        "DQ.2": "DQ", "DQ.2.1": "DQ.2", "PL": "", "PL.1": "PL",
    }  # fmt: skip
    # Taxonomy "domain,competency,...": depth 1 domains, deeper competencies (with children too).
    assert {code: item.kind for code, item in items.items()} == {
        "DC": "domain", "DC.1": "competency", "DC.1.1": "competency", "DC.2": "competency",
        "DQ": "domain", "DQ.1": "competency", "DQ.2": "competency", "DQ.2.1": "competency",
        "PL": "domain", "PL.1": "competency",
    }  # fmt: skip
    assert [items[code].sequence for code in ("DC", "DQ", "PL", "DC.1", "DC.2")] == [1, 2, 3, 1, 2]
    assert items["DC.1.1"].statement == {"en": "Designs census questionnaires"}
    assert items["DC.1.1"].description == {
        "en": "Drafts the annual school census forms with the statistics unit.\n\n"
        "- keeps indicator definitions consistent\n- pilots the form in two districts"
    }
    assert items["DC.2"].description == {
        "en": "Follows up late and incomplete returns with district officers.\n"
        "Escalates to the director when a district is more than two weeks late."
    }
    assert items["DQ.1"].description == {
        "en": "Runs the consistency checks <enrolment > capacity> and follows up on outliers."
    }
    # Description format 2 (plain text) is kept as it is.
    assert items["DQ.2"].description == {
        "en": "Keeps a log of data-quality issues and their resolution."
    }
    # Relations: Moodle lists each on both rows; kept once. Unknown id numbers stay external.
    code_of = {item.identifier: item.code for item in record.items}
    relations = {
        frozenset((code_of[r.source], code_of.get(r.target, r.target))) for r in record.relations
    }
    assert relations == {
        frozenset(("DC.1", "DQ.2")),
        frozenset(("DC.1", "PL.1")),
        frozenset(("DC.2", "DQ.1")),
        frozenset(("PL.1", "UNESCO-UIS.42")),
    }
    assert {r.kind for r in record.relations} == {"isRelatedTo"}
    assert len(record.relations) == 4


def test_identifiers_are_uuids_that_stay_the_same_on_every_read() -> None:
    data = (DATA / "moodle_emis_export.csv").read_bytes()
    first, second = parse(data).record, parse(data).record
    assert first is not None
    assert second is not None
    assert first.identifier == second.identifier
    assert [item.identifier for item in first.items] == [item.identifier for item in second.items]
    assert len({item.identifier for item in first.items}) == len(first.items)
    assert all(len(item.identifier) == 36 for item in first.items)


def test_reads_semicolons_crlf_bom_and_a_header_in_another_language_by_position() -> None:
    result = parse((DATA / "moodle_semicolon_crlf.csv").read_bytes(), language="fr")
    assert result.problems == []
    record = result.record
    assert record is not None
    assert record.code == "REF-2023"  # "RÉF 2023": accents dropped, space -> dash
    assert record.title == {"fr": "Référentiel des métiers du SIGE"}
    assert record.language == "fr"
    assert record.scale is not None
    assert [level.name["fr"] for level in record.scale.levels] == [
        "Insuffisant",
        "Satisfaisant",
        "Très bien",
    ]
    items = by_code(result)
    assert items["C-1"].kind == "domain"
    assert items["C-1"].description == {"fr": "Organiser la collecte.\n\nFormer les agents."}
    # CR LF inside a quoted plain-text cell reads as a line break, as in Moodle.
    assert items["C-1.1"].description == {"fr": "Prépare le recensement ;\nsuit les retours."}
    assert items["C-1.1"].parent == items["C-1"].identifier


def test_id_numbers_become_educap_codes() -> None:
    assert code_for_id_number("DC.1-a_b") == "DC.1-a_b"
    assert code_for_id_number("C 1.1") == "C-1.1"
    assert code_for_id_number("RÉF/2023") == "REF-2023"
    arabic = code_for_id_number("كفاءة ١")
    assert arabic.startswith("item-")
    assert arabic == code_for_id_number("كفاءة ١")


def test_rules_exported_ids_and_a_competency_scale_equal_to_the_framework_scale_are_accepted():
    data = moodle_file(
        "A,A.1,Child,,1,,,core_competency\\competency_rule_all,1,null,,12,,\n",
        ',A,Parent,,1,"Low,Mid,High,Top",'
        + CONFIG_4
        + ',core_competency\\competency_rule_points,2,"{""base"":{""points"":2}}",,11,,\n',
    )
    result = parse(data)
    assert result.problems == []
    assert [item.code for item in result.record.items] == ["A", "A.1"]  # type: ignore[union-attr]


# --------------------------------------------------------------------------- bad input


def test_unknown_parent_is_reported_on_its_row() -> None:
    result = parse(moodle_file(competency("", "A"), competency("NOPE", "B")))
    assert result.record is None
    assert problem_keys(result) == [("4", "Parent ID number", Code.UNKNOWN_PARENT)]
    assert "NOPE" in result.problems[0].message


def test_cycles_are_reported_with_their_rows() -> None:
    result = parse(
        moodle_file(
            competency("", "TOP"),
            competency("C", "A"),
            competency("A", "B"),
            competency("B", "C"),
            competency("SELF", "SELF"),
            competency("A", "UNDER"),  # below the cycle: no problem of its own
        )
    )
    assert result.record is None
    assert problem_keys(result) == [
        ("7", "Parent ID number", Code.CYCLE),
        ("4", "Parent ID number", Code.CYCLE),
    ]
    assert "4, 5, 6" in result.problems[1].message


def test_duplicate_id_numbers_and_codes_that_clash_are_reported() -> None:
    result = parse(
        moodle_file(
            competency("", "A"),
            competency("", "B"),
            competency("", "A", "Again"),
            competency("", "C 1"),
            competency("", "C-1"),
        )
    )
    assert result.record is None
    assert problem_keys(result) == [
        ("5", "ID number", Code.DUPLICATE_ID_NUMBER),
        ("7", "ID number", Code.CODE_CLASH),
    ]
    assert "row 3" in result.problems[0].message


def test_unknown_scale_value_and_broken_scale_configuration() -> None:
    bad_id = '"[{""scaleid"":""2""},{""id"":7,""scaledefault"":1,""proficient"":1}]"'
    result = parse(moodle_file(framework=f',FW,"A framework",,1,"Low,High",{bad_id},,,,,,1,\n'))
    assert problem_keys(result) == [("2", "Scale configuration", Code.UNKNOWN_SCALE_VALUE)]
    assert "7" in result.problems[0].message

    result = parse(moodle_file(framework=',FW,"A framework",,1,"Low,High",{not json,,,,,,1,\n'))
    assert problem_keys(result) == [("2", "Scale configuration", Code.SCALE_CONFIGURATION)]

    result = parse(moodle_file(framework=',FW,"A framework",,1,"Low,,High",,,,,,,1,\n'))
    assert problem_keys(result) == [("2", "Scale values", Code.EMPTY_SCALE_VALUE)]

    result = parse(moodle_file(framework=',FW,"A framework",,1,,,,,,,,1,\n'))
    assert problem_keys(result) == [("2", "Scale values", Code.NO_SCALE)]


def test_a_competency_with_its_own_scale_is_refused() -> None:
    row = ',A,Alpha,,1,"No,Yes","[{""scaleid"":""1""}]",,0,null,,,,\n'
    result = parse(moodle_file(row))
    assert problem_keys(result) == [("3", "Scale values", Code.OWN_SCALE)]


def test_framework_row_missing_or_twice() -> None:
    no_framework = parse(moodle_file(competency("", "A"), framework=""))
    assert problem_keys(no_framework) == [("", "Is framework", Code.NO_FRAMEWORK)]

    twice = parse(moodle_file(competency("", "A"), FRAMEWORK_ROW))
    assert problem_keys(twice) == [("4", "Is framework", Code.SEVERAL_FRAMEWORKS)]


def test_required_values_and_lengths() -> None:
    result = parse(
        moodle_file(
            ",,Nameless,,1,,,,0,null,,,,\n",
            ",B,,,1,,,,0,null,,,,\n",
            f",{'X' * 101},Long,,1,,,,0,null,,,,\n",
            f',C,"{"s" * 501}",,1,,,,0,null,,,,\n',
            framework=',,,,1,"Low,High",,,,,,,1,\n',
        )
    )
    assert result.record is None
    assert problem_keys(result) == [
        ("2", "ID number", Code.REQUIRED),
        ("2", "Short name", Code.REQUIRED),
        ("3", "ID number", Code.REQUIRED),
        ("4", "Short name", Code.REQUIRED),
        ("5", "ID number", Code.TOO_LONG),
        ("6", "Short name", Code.TOO_LONG),
    ]


def test_bad_description_format_and_cell_count() -> None:
    result = parse(
        moodle_file(
            ',A,Alpha,"<p>x</p>",html,,,,0,null,,,,\n',
            ",B,Beta,,1,,,,0,null,,,,,surplus\n",
        )
    )
    assert problem_keys(result) == [
        ("3", "Description format", Code.DESCRIPTION_FORMAT),
        ("4", "", Code.CELL_COUNT),
    ]


def test_malformed_csv_is_a_problem() -> None:
    result = parse(moodle_file(',A,"Alpha,<p>never closed,1,,,,0,null,,,,\n', competency("", "B")))
    assert result.record is None
    assert [p.code for p in result.problems] == [Code.MALFORMED]


def test_wrong_encoding_empty_file_and_other_csv() -> None:
    latin1 = moodle_file(competency("", "A", "Compétence")).decode().encode("cp1252")
    result = parse(latin1)
    assert problem_keys(result) == [("", "", Code.NOT_UTF8)]
    assert "line 3" in result.problems[0].message

    assert problem_keys(parse(b"")) == [("", "", Code.EMPTY)]
    assert problem_keys(parse(b"\xef\xbb\xbf \r\n\r\n")) == [("", "", Code.EMPTY)]
    assert problem_keys(parse(b"code,name\nA,B\n")) == [("1", "", Code.NOT_MOODLE)]
    assert problem_keys(parse(b"\x00\x01binary")) == [("", "", Code.UNREADABLE)]

    header_only = parse(HEADER.replace('"Short name",', "").encode())
    assert problem_keys(header_only) == [("1", "Short name", Code.MISSING_COLUMN)]


def test_utf16_with_byte_order_mark_is_read() -> None:
    data = moodle_file(competency("", "A", "ກຳລັງ")).decode().encode("utf-16")
    result = parse(data, language="lo")
    assert result.problems == []
    assert result.record is not None
    assert result.record.items[0].statement == {"lo": "ກຳລັງ"}


# ------------------------------------------------------------------------------ writing


def sample_record() -> FrameworkRecord:
    return FrameworkRecord(
        code="EMIS",
        title={"en": "EMIS staff", "ar": "موظفو نظام المعلومات"},
        description={"en": 'Line one, "quoted".\nLine two'},
        scale=ScaleRecord(
            code="default-5",
            name={"en": "Five levels"},
            levels=[
                LevelRecord(code=str(v), value=v, name={"en": n}, descriptor={"en": f"{n}..."})
                for v, n in enumerate(["None", "Awareness", "Working", "Proficient", "Expert"])
            ],
        ),
        items=[
            ItemRecord(identifier="i-dom", code="DOM", kind="domain", statement={"en": "Data"}),
            ItemRecord(
                identifier="i-c2",
                code="C2",
                kind="competency",
                parent="i-dom",
                sequence=2,
                statement={"en": '=HYPERLINK("http://evil")'},
                indicators={"2": {"en": "Does it."}},
            ),
            ItemRecord(
                identifier="i-c1",
                code="C1",
                kind="competency",
                parent="i-dom",
                sequence=1,
                statement={"en": "Runs checks"},
                description={"en": "- first\n- second"},
                keywords="quality",
            ),
        ],
        relations=[
            RelationRecord(source="i-c1", kind="isRelatedTo", target="i-c2"),
            RelationRecord(source="i-c1", kind="isRelatedTo", target="OTHER,ONE"),
            RelationRecord(source="i-c1", kind="replacedBy", target="i-c2"),
        ],
        profiles=[ProfileRecord(code="clerk", name={"en": "Clerk"})],
    )


def test_writes_moodle_header_quoting_and_rows() -> None:
    data = serialise(sample_record())
    text = data.decode()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert "\r" not in text
    assert text.startswith(
        '"Parent ID number","ID number","Short name",Description,"Description format",'
        '"Scale values","Scale configuration","Rule type (optional)","Rule outcome (optional)",'
        '"Rule config (optional)","Cross-referenced competency ID numbers",'
        '"Exported ID (optional)","Is framework",Taxonomy\n'
    )
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert all(len(row) == 14 for row in rows)
    framework, dom, c1, c2 = rows[1:]
    assert framework[1:3] == ["EMIS", "EMIS staff"]
    assert framework[3] == "<p>Line one, &quot;quoted&quot;.<br>\nLine two</p>"
    assert framework[4:6] == ["1", "None,Awareness,Working,Proficient,Expert"]
    config = json.loads(framework[6])
    assert config[0] == {"scaleid": "0"}
    assert [(c["id"], c["scaledefault"], c["proficient"]) for c in config[1:]] == [
        (1, 1, 0), (2, 0, 0), (3, 0, 0), (4, 0, 1), (5, 0, 1),
    ]  # fmt: skip
    assert framework[12:] == ["1", "domain,competency"]
    assert dom[:3] == ["", "DOM", "Data"]
    # Siblings by sequence; no rule, like Moodle writes it ("", "0", "null").
    assert c1[:3] == ["DOM", "C1", "Runs checks"]
    assert c1[7:10] == ["", "0", "null"]
    assert c1[10] == "C2,OTHER%2CONE"  # Moodle's escaping of commas in id numbers
    assert c2[10] == "C1"  # a relation is listed on both rows, as Moodle does
    # Formula protection on the plain-text column; descriptions start with "<p>" anyway.
    assert c2[2] == '\'=HYPERLINK("http://evil")'
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_export_then_import_keeps_what_moodle_carries() -> None:
    record = sample_record()
    result = parse(serialise(record))
    assert result.problems == []
    back = result.record
    assert back is not None
    assert back.title == {"en": "EMIS staff"}
    assert back.description == record.description
    assert [item.code for item in back.items] == ["DOM", "C1", "C2"]
    items = by_code(result)
    assert items["C2"].statement == {"en": '=HYPERLINK("http://evil")'}
    assert items["C1"].description == {"en": "- first\n- second"}
    code_of = {item.identifier: item.code for item in back.items}
    assert {(code_of[r.source], code_of.get(r.target, r.target)) for r in back.relations} == {
        ("C1", "C2"),
        ("C1", "OTHER,ONE"),
    }


def test_identifiers_travel_in_the_exported_id_column() -> None:
    record = FrameworkRecord(
        code="F",
        title={"en": "F"},
        identifier="0b0c0a3e-8a4e-4b8e-9f0e-1d2c3b4a5f60",
        items=[
            ItemRecord(
                identifier="5e9d1c2b-7a6f-4e3d-8c2b-1a0f9e8d7c6b",
                code="A",
                kind="competency",
                statement={"en": "A"},
            ),
            ItemRecord(identifier="not-a-uuid", code="B", kind="competency", statement={"en": "B"}),
        ],
    )
    rows = list(csv.reader(io.StringIO(serialise(record).decode(), newline="")))
    assert [row[11] for row in rows[1:]] == [record.identifier, record.items[0].identifier, ""]
    back = parse(serialise(record)).record
    assert back is not None
    assert back.identifier == record.identifier
    assert back.items[0].identifier == record.items[0].identifier
    assert back.items[1].identifier != "not-a-uuid"  # not a UUID: derived from the codes
    assert len(back.items[1].identifier) == 36
    # A copied row with the same Exported ID: the first keeps it, the copy gets its own.
    copied = moodle_file(
        ",A,Alpha,,1,,,,0,null,,5e9d1c2b-7a6f-4e3d-8c2b-1a0f9e8d7c6b,,\n",
        ",B,Beta,,1,,,,0,null,,5e9d1c2b-7a6f-4e3d-8c2b-1a0f9e8d7c6b,,\n",
    )
    items = by_code(parse(copied))
    assert items["A"].identifier == "5e9d1c2b-7a6f-4e3d-8c2b-1a0f9e8d7c6b"
    assert items["B"].identifier != items["A"].identifier


def test_export_losses_say_what_moodle_cannot_hold() -> None:
    messages = " ".join(p.message for p in export_losses(sample_record()))
    for expected in ("ar", "indicators", "descriptors", "keywords", "role profiles", "replacedBy"):
        assert expected in messages
    assert {p.code for p in export_losses(sample_record())} == {Code.NOT_CARRIED}
    plain = FrameworkRecord(code="X", title={"en": "X"})
    assert export_losses(plain) == []


def test_a_record_without_scale_gets_the_default_levels() -> None:
    data = serialise(FrameworkRecord(code="X", title={"en": "X"}))
    result = parse(data)
    assert result.record is not None
    assert result.record.scale is not None
    assert [level.name["en"] for level in result.record.scale.levels] == [
        "None", "Awareness", "Working", "Proficient", "Expert",
    ]  # fmt: skip


def test_html_to_text_handles_moodle_markup() -> None:
    markup = (
        '<p dir="ltr">Intro&nbsp;text</p>\n<ol><li>one</li><li>two</li></ol>'
        "<script>alert(1)</script><p>a<br/>b &amp; c &#x263A;</p>"
    )
    assert html_to_text(markup) == "Intro text\n\n1. one\n2. two\n\na\nb & c \u263a"


# ------------------------------------------------------------------- property tests

_text_chars = st.characters(blacklist_categories=("Cs",))
_line_chars = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))


def _clean(text: str) -> bool:
    return bool(text) and text == text.strip()


names = st.text(_line_chars, min_size=1, max_size=40).filter(_clean)
level_names = names.filter(lambda text: "," not in text)
codes = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,12}", fullmatch=True)


@given(st.text(_text_chars, max_size=60))
@settings(max_examples=300, deadline=None)
def test_text_to_html_round_trips_any_text(text: str) -> None:
    markup = text_to_html(text)
    assert html_to_text(markup) == text
    assert not markup.startswith(("=", "+", "-", "@"))


@st.composite
def framework_records(draw: st.DrawFn) -> FrameworkRecord:
    language = draw(st.sampled_from(LANGUAGES))
    size = draw(st.integers(min_value=0, max_value=12))
    item_codes = draw(st.lists(codes, min_size=size, max_size=size, unique=True))
    # EduCap identifiers are UUIDs and travel in "Exported ID"; anything else is re-derived.
    ids = [draw(st.one_of(st.uuids().map(str), st.just(f"id-{code}"))) for code in item_codes]
    parents: list[int | None] = [
        draw(st.one_of(st.none(), st.integers(0, index - 1))) if index else None
        for index in range(size)
    ]
    depth: list[int] = []
    for parent in parents:
        depth.append(0 if parent is None else depth[parent] + 1)
    has_children = {parent for parent in parents if parent is not None}
    # Moodle names one kind per depth: "domain", "competency", or by place in the tree.
    mode = {d: draw(st.sampled_from(["domain", "competency", "tree"])) for d in set(depth)}
    items = []
    sequence: dict[int | None, int] = {}
    for index, code in enumerate(item_codes):
        parent = parents[index]
        sequence[parent] = sequence.get(parent, 0) + 1
        kind = mode[depth[index]]
        if kind == "tree":
            kind = "domain" if index in has_children else "competency"
        description = draw(st.text(_text_chars, max_size=50))
        other = draw(st.sampled_from([lang for lang in LANGUAGES if lang != language]))
        items.append(
            ItemRecord(
                identifier=ids[index],
                code=code,
                kind=kind,
                statement={language: draw(names), other: draw(names)},
                parent="" if parent is None else ids[parent],
                sequence=sequence[parent],
                description={language: description} if description else {},
            )
        )
    relations = []
    if size >= 2:
        for _ in range(draw(st.integers(0, 4))):
            source, target = draw(st.lists(st.sampled_from(ids), min_size=2, max_size=2))
            relations.append(RelationRecord(source, "isRelatedTo", target))
    if size and draw(st.booleans()):
        relations.append(
            RelationRecord(
                ids[0],
                "isRelatedTo",
                "ext:" + draw(names.filter(lambda text: "%" not in text)),
            )
        )
    level_count = draw(st.integers(1, 6))
    description = draw(st.text(_text_chars, max_size=80))
    return FrameworkRecord(
        code=draw(codes),
        title={language: draw(names)},
        identifier=draw(st.one_of(st.just(""), st.uuids().map(str))),
        language=language,
        description={language: description} if description else {},
        scale=ScaleRecord(
            code="s",
            name={language: "Scale"},
            levels=[
                LevelRecord(code=str(value), value=value, name={language: draw(level_names)})
                for value in range(level_count)
            ],
        ),
        items=items,
        relations=relations,
    )


def moodle_view(record: FrameworkRecord) -> dict[str, Any]:
    """What a Moodle CSV carries, by code: one language, tree, order, kinds, relations."""
    language = record.language
    code_of = {item.identifier: item.code for item in record.items}
    siblings: dict[str, list[tuple[int, str]]] = {}
    for position, item in enumerate(record.items):
        siblings.setdefault(code_of.get(item.parent, ""), []).append(
            (item.sequence * 1000 + position, item.code)
        )
    relations = set()
    for relation in record.relations:
        source, target = code_of[relation.source], code_of.get(relation.target, relation.target)
        if source != target:
            relations.add(
                frozenset((source, target)) if relation.target in code_of else (source, target)
            )
    assert record.scale is not None
    return {
        "code": record.code,
        "title": record.title[language],
        "description": record.description.get(language, ""),
        "levels": [
            (level.code, level.value, level.name[language])
            for level in sorted(record.scale.levels, key=lambda level: level.value)
        ],
        "items": {
            item.code: (
                item.kind,
                code_of.get(item.parent, ""),
                item.statement[language],
                item.description.get(language, ""),
            )
            for item in record.items
        },
        "order": {
            parent: [code for _key, code in sorted(pairs)] for parent, pairs in siblings.items()
        },
        "relations": relations,
    }


@given(framework_records())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_serialise_then_parse_keeps_what_moodle_carries(record: FrameworkRecord) -> None:
    result = parse(serialise(record), language=record.language)
    assert result.problems == []
    assert result.record is not None
    assert moodle_view(result.record) == moodle_view(record)
    identifiers = {item.code: item.identifier for item in result.record.items}
    for item in record.items:
        if not item.identifier.startswith("id-"):
            assert identifiers[item.code] == item.identifier
    if record.identifier:
        assert result.record.identifier == record.identifier
    # A second round trip changes nothing at all, identifiers included.
    again = parse(serialise(result.record), language=record.language)
    assert again.record == result.record
    assert not any("taxonomy" in problem.message for problem in export_losses(record))


@given(st.binary(max_size=600))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    result = parse(data)
    assert (result.record is None) == bool(result.problems)


_cell = st.one_of(
    st.sampled_from(["", "A", "B", "C", "1", "0", "Low,High", '[{"scaleid":1}]', "A,B", "<p>x"]),
    st.text(max_size=12),
)


@given(st.lists(st.lists(_cell, min_size=0, max_size=16), max_size=8))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_rows_under_a_moodle_header_never_raise(rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    result = parse(buffer.getvalue().encode())
    assert (result.record is None) == bool(result.problems)
    for problem in result.problems:
        assert problem.message

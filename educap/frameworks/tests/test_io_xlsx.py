"""EduCap's framework spreadsheet (XLSX): pure parse/serialise, no database."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from educap.frameworks.io.records import (
    LANGUAGES,
    FrameworkRecord,
    ItemRecord,
    LevelRecord,
    ParseResult,
    ProfileRecord,
    RelationRecord,
    RequirementRecord,
    ScaleRecord,
)
from educap.frameworks.io.xlsx import (
    COMPETENCY_COLUMNS,
    FRAMEWORK_FIELDS,
    LEVEL_COLUMNS,
    REQUIREMENT_COLUMNS,
    XlsxErrorCode,
    blank_template,
    parse,
    serialise,
)

Code = XlsxErrorCode

LEVELS = [
    ["code", "value", "name_en", "name_ar"],
    [0, 0, "None", "لا يوجد"],
    [1, 1, "Awareness", "وعي"],
    ["2", "2", "Working", "عملي"],
]
FRAMEWORK = [
    ["field", "value", "notes"],
    ["code", "EMIS", None],
    ["title_en", "EMIS staff competencies", "the title"],
    ["title_ar", "كفاءات موظفي نظام المعلومات", None],
    ["language", "en", None],
]


def workbook(**sheets: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    assert book.active is not None
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def competencies(*rows: list[Any], header: list[str] | None = None) -> list[list[Any]]:
    return [header or ["code", "parent_code", "kind", "statement_en"], *rows]


def problem_keys(result: ParseResult) -> list[tuple[str, str]]:
    return [(p.location, p.code) for p in result.problems]


def items_by_code(result: ParseResult) -> dict[str, ItemRecord]:
    assert result.record is not None
    return {item.code: item for item in result.record.items}


# -------------------------------------------------------------------------- template


def test_blank_template_has_the_sheets_headers_help_and_validation() -> None:
    book = openpyxl.load_workbook(io.BytesIO(blank_template()))
    assert book.sheetnames == [
        "how to fill",
        "framework",
        "levels",
        "competencies",
        "requirements",
        "relations",
    ]
    assert "How to fill" in str(book["how to fill"]["A1"].value)
    framework = book["framework"]
    assert [c.value for c in framework[1]] == ["field", "value", "notes"]
    assert [row[0].value for row in framework.iter_rows(min_row=2)] == list(FRAMEWORK_FIELDS)
    assert [c.value for c in book["levels"][1]] == list(LEVEL_COLUMNS)
    assert [c.value for c in book["competencies"][1]] == list(COMPETENCY_COLUMNS)
    assert [c.value for c in book["requirements"][1]] == list(REQUIREMENT_COLUMNS)
    for title in ("framework", "levels", "competencies", "requirements", "relations"):
        assert book[title].freeze_panes == "A2"
    kind_lists = [v.formula1 for v in book["competencies"].data_validations.dataValidation]
    assert kind_lists == ['"domain,competency"']
    # Codes typed into the template stay text ("1.10" must not turn into 1.1).
    assert book["competencies"].column_dimensions["A"].number_format == "@"
    assert book["levels"].column_dimensions["B"].number_format == "General"
    requirement_lists = {v.formula1 for v in book["requirements"].data_validations.dataValidation}
    assert requirement_lists == {'"1,2,3,critical"', "levels!$A$2:$A$200"}


def test_blank_template_with_a_scale_lists_levels_and_indicator_columns() -> None:
    scale = ScaleRecord(
        code="default-5",
        name={"en": "Five levels"},
        levels=[LevelRecord(code=str(v), value=v, name={"en": f"L{v}"}) for v in range(5)],
    )
    book = openpyxl.load_workbook(io.BytesIO(blank_template(scale=scale)))
    header = [c.value for c in book["competencies"][1]]
    assert "indicator_0_en" in header
    assert "indicator_4_lo" in header
    assert header[-1] == "identifier"
    assert [row[0].value for row in book["levels"].iter_rows(min_row=2)] == list("01234")


def test_the_blank_template_reads_back_as_problems_not_an_exception() -> None:
    result = parse(blank_template())
    assert result.record is None
    assert problem_keys(result) == [
        ("framework!B2", Code.REQUIRED),
        ("framework!B4", Code.REQUIRED),
    ]


# -------------------------------------------------------------------- a filled-in file


def filled_in() -> bytes:
    header = [
        "Code",
        "parent_code",
        "kind",
        "statement_en",
        "statement_ar",
        "description_en",
        "keywords",
        "indicator_2_en",
        "indicator_2_ar",
    ]
    return workbook(
        framework=FRAMEWORK,
        levels=LEVELS,
        competencies=competencies(
            ["DC.1", "DC", None, "Plans the census", "يخطط للتعداد", "Line 1\nLine 2", "census"],
            ["DC", None, "Domain", "Data collection", "جمع البيانات"],
            ["DC.2", "DC", "competency", "'=SUM(A1)", None, None, None, "Runs it alone", "ينفذه"],
            [None, None, None, None],  # blank rows are skipped
            ["QA", None, None, "Quality"],
            ["QA.1", "QA", None, "Validates data", None, None, None, None, None],
            header=header,
        ),
        requirements=[
            [
                "profile_code",
                "profile_name_en",
                "role_code",
                "base_profile_code",
                "competency_code",
                "level_code",
                "weight",
            ],
            ["all-staff", "All staff", None, None, "QA.1", 1, None],
            ["clerk", "Data clerk", "data-clerk", "all-staff", "DC.1", "2", "critical"],
            ["clerk", None, None, None, "DC.2", 1, 3],
            ["planner", "Planner", "planner", "all-staff", None, None, None],
        ],
        notes=[["anything", "is ignored"]],
    )


def test_reads_a_filled_in_template() -> None:
    result = parse(filled_in())
    assert result.problems == []
    record = result.record
    assert record is not None
    assert record.code == "EMIS"
    assert record.title == {"en": "EMIS staff competencies", "ar": "كفاءات موظفي نظام المعلومات"}
    assert record.version == "1.0"
    assert record.scale is not None
    assert [(lv.code, lv.value, lv.name) for lv in record.scale.levels] == [
        ("0", 0, {"en": "None", "ar": "لا يوجد"}),
        ("1", 1, {"en": "Awareness", "ar": "وعي"}),
        ("2", 2, {"en": "Working", "ar": "عملي"}),
    ]
    # Parents first; siblings keep the order of their rows.
    assert [item.code for item in record.items] == ["DC", "DC.1", "DC.2", "QA", "QA.1"]
    items = items_by_code(result)
    assert items["DC"].kind == "domain"
    assert items["QA"].kind == "domain"  # empty kind, has children
    assert items["QA.1"].kind == "competency"  # empty kind, leaf
    assert items["DC.1"].parent == items["DC"].identifier
    assert [items[c].sequence for c in ("DC", "QA", "DC.1", "DC.2")] == [1, 2, 1, 2]
    assert items["DC.1"].statement == {"en": "Plans the census", "ar": "يخطط للتعداد"}
    assert items["DC.1"].description == {"en": "Line 1\nLine 2"}
    assert items["DC.1"].keywords == "census"
    assert items["DC.2"].statement == {"en": "=SUM(A1)"}  # the protecting ' is removed
    assert items["DC.2"].indicators == {"2": {"en": "Runs it alone", "ar": "ينفذه"}}
    assert len({item.identifier for item in record.items}) == 5

    all_staff, clerk, planner = record.profiles
    assert all_staff == ProfileRecord(
        code="all-staff",
        name={"en": "All staff"},
        requirements=[RequirementRecord(item=items["QA.1"].identifier, level="1", weight=2)],
    )
    assert (clerk.role, clerk.base, clerk.name) == ("data-clerk", "all-staff", {"en": "Data clerk"})
    assert clerk.requirements == [
        RequirementRecord(item=items["DC.1"].identifier, level="2", weight=4),
        RequirementRecord(item=items["DC.2"].identifier, level="1", weight=3),
    ]
    assert planner.requirements == []
    # The same file gives the same identifiers every time.
    again = parse(filled_in()).record
    assert again is not None
    assert [i.identifier for i in again.items] == [i.identifier for i in record.items]


def test_framework_sheet_without_its_header_row_and_with_any_case_names() -> None:
    data = workbook(
        framework=[["code", "X"], ["Title_EN", "Title"], ["Version", 2.5]],
        competencies=competencies(
            ["A", None, None, "a", "at level A"],
            header=["CODE", "Parent Code", "kind", "Statement_En", "Indicator_A_EN"],
        ),
    )
    result = parse(data)
    assert result.problems == []
    assert result.record is not None
    assert (result.record.code, result.record.title, result.record.version) == (
        "X",
        {"en": "Title"},
        "2.5",
    )
    assert result.record.items[0].indicators == {"A": {"en": "at level A"}}


# ------------------------------------------------------------------------- bad input


def test_formula_cells_are_refused_with_their_cell() -> None:
    data = workbook(
        framework=FRAMEWORK,
        competencies=competencies(["A", None, None, '=CONCAT("a","b")']),
    )
    result = parse(data)
    assert result.record is None
    assert problem_keys(result) == [
        ("competencies!D2", Code.FORMULA),
        ("competencies!D2", Code.REQUIRED),
    ]


def test_tree_problems_unknown_parent_cycles_duplicates() -> None:
    data = workbook(
        framework=FRAMEWORK,
        competencies=competencies(
            ["A", "B", None, "a"],
            ["B", "C", None, "b"],
            ["C", "A", None, "c"],
            ["D", "NOPE", None, "d"],
            ["E", "E", None, "e"],
            ["A", None, None, "again"],
            ["bad code", None, "skill", "x"],
        ),
    )
    result = parse(data)
    assert result.record is None
    assert problem_keys(result) == [
        ("competencies!A7", Code.DUPLICATE_CODE),
        ("competencies!A8", Code.INVALID_CODE),
        ("competencies!C8", Code.INVALID_VALUE),
        ("competencies!B5", Code.UNKNOWN_PARENT),
        ("competencies!B6", Code.CYCLE),
        ("competencies!B2", Code.CYCLE),
    ]
    assert "A, B, C" in result.problems[-1].message


def test_level_problems_and_unknown_levels() -> None:
    data = workbook(
        framework=FRAMEWORK,
        levels=[
            ["code", "value", "name_en"],
            ["0", 0, "None"],
            ["0", 1, "Again"],
            ["x", "high", "Bad"],
            ["y", 0, None],
        ],
        competencies=competencies(
            ["A", None, None, "a", "x"],
            header=["code", "parent_code", "kind", "statement_en", "indicator_9_en"],
        ),
        requirements=[
            ["profile_code", "profile_name_en", "competency_code", "level_code", "weight"],
            ["p", "P", "A", "7", 2],
            ["p", "P", "NOPE", "0", "huge"],
            ["q", None, None, "0", None],
        ],
    )
    result = parse(data)
    assert result.record is None
    assert problem_keys(result) == [
        ("levels!A3", Code.DUPLICATE_CODE),
        ("levels!B4", Code.INVALID_VALUE),
        ("levels!B5", Code.DUPLICATE_CODE),
        ("levels!C5", Code.REQUIRED),
        ("competencies!E1", Code.UNKNOWN_LEVEL),
        ("requirements!D2", Code.UNKNOWN_LEVEL),
        ("requirements!C3", Code.UNKNOWN_COMPETENCY),
        ("requirements!E3", Code.INVALID_VALUE),
        ("requirements!C4", Code.REQUIRED),
        ("requirements!B4", Code.REQUIRED),
    ]


def test_profile_problems() -> None:
    data = workbook(
        framework=FRAMEWORK,
        competencies=competencies(["A", None, None, "a"]),
        requirements=[
            [
                "profile_code",
                "profile_name_en",
                "base_profile_code",
                "competency_code",
                "level_code",
            ],
            ["p", "P", "q", "A", "1"],
            ["p", "Other name", None, None, None],
            ["q", "Q", "p", None, None],
            ["r", "R", "missing", None, None],
            ["p", None, None, "A", "2"],
        ],
    )
    result = parse(data)
    assert problem_keys(result) == [
        ("requirements!B3", Code.CONFLICT),
        ("requirements!D6", Code.DUPLICATE_CODE),
        ("requirements!C5", Code.UNKNOWN_PROFILE),
        ("requirements!C2", Code.CYCLE),
        ("requirements!C4", Code.CYCLE),
    ]


def test_sheet_and_column_problems() -> None:
    assert problem_keys(parse(workbook(levels=LEVELS))) == [
        ("", Code.MISSING_SHEET),
        ("", Code.MISSING_SHEET),
    ]
    result = parse(
        workbook(
            framework=[*FRAMEWORK, ["colour", "blue"], ["code", "AGAIN"]],
            competencies=[["code", "statement_en", "statement_en", "colour", "indicator_1_xx"]],
        )
    )
    assert problem_keys(result) == [
        ("framework!A6", Code.UNKNOWN_FIELD),
        ("framework!A7", Code.DUPLICATE_FIELD),
        ("competencies!C1", Code.DUPLICATE_COLUMN),
        ("competencies!D1", Code.UNKNOWN_COLUMN),
    ]
    bad_language = parse(
        workbook(
            framework=FRAMEWORK,
            competencies=competencies(
                ["A", None, None, "a", "x"],
                header=["code", "parent_code", "kind", "statement_en", "indicator_1_xx"],
            ),
        )
    )
    assert problem_keys(bad_language) == [("competencies!E1", Code.UNKNOWN_COLUMN)]
    no_code = parse(workbook(framework=[["field", "value"]], competencies=competencies()))
    assert problem_keys(no_code) == [("framework", Code.REQUIRED), ("framework", Code.REQUIRED)]


def test_files_that_are_not_workbooks() -> None:
    for data in (b"", b"code,name\nA,B\n", b"PK\x03\x04broken", _zip_without_workbook()):
        assert problem_keys(parse(data)) == [("", Code.UNREADABLE)]


def _zip_without_workbook() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


# ------------------------------------------------------------------------------ writing


def test_export_protects_formula_text_and_never_writes_formulas() -> None:
    record = FrameworkRecord(
        code="X",
        title={"en": "@title"},
        items=[
            ItemRecord(
                identifier="i1",
                code="A",
                kind="competency",
                statement={"en": '=HYPERLINK("http://evil","x")', "fr": "-moins"},
                description={"en": "+plus", "ar": "'=already quoted"},
                keywords="normal",
            )
        ],
    )
    data = serialise(record)
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    texts = {cell.value for cell in cells if isinstance(cell.value, str)}
    assert {'\'=HYPERLINK("http://evil","x")', "'-moins", "'+plus", "''=already quoted"} <= texts
    assert "'@title" in texts
    back = parse(data).record
    assert back is not None
    assert back.title == {"en": "@title"}
    assert back.items[0].statement == record.items[0].statement
    assert back.items[0].description == record.items[0].description


def test_export_writes_requirements_relations_and_line_breaks() -> None:
    record = FrameworkRecord(
        code="X",
        title={"en": "X"},
        description={"en": "one\r\ntwo"},
        items=[
            ItemRecord(identifier="d", code="D", kind="domain", statement={"en": "D"}),
            ItemRecord(
                identifier="c", code="C", kind="competency", statement={"en": "C"}, parent="d"
            ),
        ],
        relations=[RelationRecord(source="c", kind="exactMatchOf", target="urn:x", sequence=3)],
        profiles=[
            ProfileRecord(
                code="p",
                name={"en": "P"},
                requirements=[RequirementRecord(item="C", level="3", weight=4)],
            )
        ],
    )
    book = openpyxl.load_workbook(io.BytesIO(serialise(record)))
    requirement = [c.value for c in book["requirements"][2]]
    assert requirement == ["p", "P", None, None, None, None, None, "C", "3", "critical"]
    assert [c.value for c in book["relations"][2]] == ["C", "exactMatchOf", "urn:x", None, None, 3]
    back = parse(serialise(record)).record
    assert back is not None
    assert back.description == {"en": "one\ntwo"}  # Excel keeps line breaks as LF
    assert back.relations[0].target == "urn:x"
    assert back.profiles[0].requirements[0].item == back.items[1].identifier


# ------------------------------------------------------------------- property tests

_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff")
_multiline = st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\t")


def _clean(text: str) -> bool:
    return bool(text) and text == text.strip()


names = st.text(_chars, min_size=1, max_size=30).filter(_clean)
long_texts = st.text(_multiline, min_size=1, max_size=60).filter(_clean)
codes = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,12}", fullmatch=True)


def texts(values: st.SearchStrategy[str], *, required: bool = False) -> st.SearchStrategy[dict]:
    strategy = st.dictionaries(st.sampled_from(LANGUAGES), values, max_size=4)
    return strategy.filter(bool) if required else strategy


@st.composite
def framework_records(draw: st.DrawFn) -> FrameworkRecord:
    code = draw(codes)
    level_count = draw(st.integers(0, 5))
    level_codes = draw(
        st.lists(
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_]{0,5}", fullmatch=True),
            min_size=level_count,
            max_size=level_count,
            unique=True,
        )
    )
    values = draw(
        st.lists(st.integers(0, 100), min_size=level_count, max_size=level_count, unique=True)
    )
    levels = [
        LevelRecord(
            code=lc,
            value=v,
            name=draw(texts(names, required=True)),
            descriptor=draw(texts(long_texts)),
        )
        for lc, v in zip(level_codes, values, strict=True)
    ]
    scale = None
    if levels:
        scale = ScaleRecord(
            code=draw(codes),
            name=draw(texts(names, required=True)),
            levels=levels,
            identifier=draw(st.one_of(st.just(""), st.uuids().map(str))),
            description=draw(texts(long_texts)),
        )
    size = draw(st.integers(0, 10))
    item_codes = draw(st.lists(codes, min_size=size, max_size=size, unique=True))
    parents = [
        draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None for i in range(size)
    ]
    sequence: dict[int | None, int] = {}
    items = []
    for index, item_code in enumerate(item_codes):
        parent = parents[index]
        sequence[parent] = sequence.get(parent, 0) + 1
        indicators = {}
        if level_codes:
            indicators = draw(
                st.dictionaries(
                    st.sampled_from(level_codes), texts(long_texts, required=True), max_size=3
                )
            )
        items.append(
            ItemRecord(
                identifier=draw(st.uuids()).hex,
                code=item_code,
                kind=draw(st.sampled_from(["domain", "competency"])),
                statement=draw(texts(names, required=True)),
                parent="" if parent is None else items[parent].identifier,
                sequence=sequence[parent],
                description=draw(texts(long_texts)),
                keywords=draw(st.one_of(st.just(""), names)),
                indicators=indicators,
            )
        )
    relations = []
    if items:
        for _ in range(draw(st.integers(0, 3))):
            source = draw(st.sampled_from(items)).identifier
            target = draw(
                st.one_of(
                    st.sampled_from(items).map(lambda item: item.identifier),
                    names.map(lambda text: "urn:" + text),
                )
            )
            relations.append(
                RelationRecord(
                    source=source,
                    kind=draw(st.sampled_from(["isRelatedTo", "replacedBy", "isPeerOf", "custom"])),
                    target=target,
                    target_uri=draw(st.one_of(st.just(""), st.just("https://example.org/x"))),
                    identifier=draw(st.one_of(st.just(""), st.uuids().map(str))),
                    sequence=draw(st.one_of(st.none(), st.integers(0, 99))),
                )
            )
    profiles: list[ProfileRecord] = []
    if items and level_codes:
        for profile_code in draw(st.lists(codes, max_size=3, unique=True)):
            required_items = draw(
                st.lists(st.sampled_from(items), unique_by=lambda item: item.code, max_size=4)
            )
            profiles.append(
                ProfileRecord(
                    code=profile_code,
                    name=draw(texts(names, required=True)),
                    role=draw(st.one_of(st.just(""), codes)),
                    base=profiles[0].code if profiles and draw(st.booleans()) else "",
                    requirements=[
                        RequirementRecord(
                            item=item.identifier,
                            level=draw(st.sampled_from(level_codes)),
                            weight=draw(st.integers(1, 4)),
                        )
                        for item in required_items
                    ],
                )
            )
    return FrameworkRecord(
        code=code,
        title=draw(texts(names, required=True)),
        identifier=draw(st.one_of(st.just(""), st.uuids().map(str))),
        version=draw(st.sampled_from(["1.0", "2.1", "2024-draft"])),
        language=draw(st.sampled_from(LANGUAGES)),
        description=draw(texts(long_texts)),
        licence=draw(st.one_of(st.just(""), names)),
        source=draw(st.one_of(st.just(""), names)),
        publisher=draw(st.one_of(st.just(""), names)),
        scale=scale,
        items=items,
        relations=relations,
        profiles=profiles,
    )


def sheet_view(record: FrameworkRecord) -> dict[str, Any]:
    """Everything the spreadsheet carries (all but status), items in tree order."""
    code_of = {item.identifier: item.code for item in record.items}
    siblings: dict[str, list[tuple[int, int, str]]] = {}
    for position, item in enumerate(record.items):
        siblings.setdefault(code_of.get(item.parent, ""), []).append(
            (item.sequence, position, item.code)
        )
    scale = record.scale
    return {
        "framework": (
            record.code,
            record.identifier,
            record.title,
            record.version,
            record.language,
            record.description,
            record.licence,
            record.source,
            record.publisher,
        ),
        "scale": None
        if scale is None
        else (
            scale.code,
            scale.identifier,
            scale.name,
            scale.description,
            sorted((lv.value, lv.code, lv.name, lv.descriptor) for lv in scale.levels),
        ),
        "items": {
            item.code: (
                item.identifier,
                item.kind,
                code_of.get(item.parent, ""),
                item.statement,
                item.description,
                item.keywords,
                item.indicators,
            )
            for item in record.items
        },
        "order": {parent: [c for _s, _p, c in sorted(group)] for parent, group in siblings.items()},
        "relations": [
            (
                code_of[r.source],
                r.kind,
                code_of.get(r.target, r.target),
                r.target_uri,
                r.identifier,
                r.sequence,
            )
            for r in record.relations
        ],
        "profiles": [
            (
                p.code,
                p.name,
                p.role,
                p.base,
                [(code_of[q.item], q.level, q.weight) for q in p.requirements],
            )
            for p in record.profiles
        ],
    }


@given(framework_records())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_serialise_then_parse_gives_the_same_framework(record: FrameworkRecord) -> None:
    result = parse(serialise(record))
    assert result.problems == []
    assert result.record is not None
    assert sheet_view(result.record) == sheet_view(record)


@given(st.binary(max_size=400))
@settings(max_examples=200, deadline=None)
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    result = parse(data)
    assert result.record is None
    assert result.problems


_cell_values = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.sampled_from(["A", "B", "domain", "critical", "2", "0", "=1+1", "'=x", "indicator_0_en"]),
    st.text(_chars, max_size=10),
)


@given(
    st.lists(st.lists(_cell_values, max_size=6), max_size=6),
    st.lists(st.lists(_cell_values, max_size=8), max_size=6),
    st.lists(st.lists(_cell_values, max_size=8), max_size=4),
)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_cells_never_raise(
    levels: list[list[Any]], items: list[list[Any]], requirements: list[list[Any]]
) -> None:
    data = workbook(
        framework=FRAMEWORK,
        levels=[["code", "value", "name_en"], *levels],
        competencies=competencies(*items, header=["code", "parent_code", "kind", "statement_en"]),
        requirements=[list(REQUIREMENT_COLUMNS), *requirements],
    )
    result = parse(data)
    assert (result.record is None) == bool(result.problems)

"""The item bank file format (CSV/XLSX), its round trip, and the shipped EMIS questions."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from educap.assessments.io.item_bank import (
    COLUMNS,
    KINDS,
    ItemRecord,
    parse_csv,
    parse_rows,
    parse_xlsx,
    serialise_csv,
    serialise_xlsx,
)
from educap.assessments.knowledge import (
    EMIS_ITEM_BANK,
    emis_item_bank_install,
    item_bank_apply,
    item_bank_plan,
    item_bank_records,
)
from educap.assessments.models import TestItem
from educap.frameworks.emis import emis_framework_install
from educap.frameworks.models import FrameworkItem

# Cell text as people type it: any printable text without the option separator, trimmed.
text = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="|"),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)
code = st.from_regex(r"[A-Z][A-Z0-9_.-]{0,15}", fullmatch=True)
texts = st.fixed_dictionaries({"en": text}, optional={"ar": text, "fr": text, "lo": text})


@st.composite
def records(draw) -> ItemRecord:
    kind = draw(st.sampled_from(KINDS))
    record = ItemRecord(
        code=draw(code),
        framework="EMIS-STAFF",
        framework_version=draw(st.sampled_from(["", "1.0"])),
        competency=draw(st.sampled_from(["SA.1", "DC.1"])),
        kind=kind,
        stem=draw(texts),
        explanation=draw(st.one_of(st.just({}), texts)),
        active=draw(st.booleans()),
    )
    if kind in ("single", "multiple"):
        n = draw(st.integers(2, 5))
        langs = draw(st.sets(st.sampled_from(["ar", "fr", "lo"])))
        record.options = [
            {"en": draw(text), **{lang: draw(text) for lang in langs}} for _ in range(n)
        ]
        if kind == "single":
            record.correct = {draw(st.integers(1, n))}
        else:
            record.correct = draw(st.sets(st.integers(1, n), min_size=1))
    elif kind == "true_false":
        record.true_false_answer = draw(st.booleans())
    else:
        record.numeric_answer = draw(st.decimals(-(10**6), 10**6, places=3))
        record.tolerance = draw(st.decimals(0, 100, places=2))
    return record


def _key(r: ItemRecord) -> tuple:
    return (
        r.code,
        r.framework,
        r.framework_version,
        r.competency,
        r.kind,
        r.stem,
        r.options,
        r.correct,
        r.true_false_answer,
        r.numeric_answer,
        r.tolerance,
        r.explanation,
        r.active,
    )


def _unique(items: list[ItemRecord]) -> list[ItemRecord]:
    seen, out = set(), []
    for r in items:
        if r.code not in seen:
            seen.add(r.code)
            out.append(r)
    return out


@given(st.lists(records(), max_size=6).map(_unique))
def test_csv_round_trip(items: list[ItemRecord]) -> None:
    parsed = parse_csv(serialise_csv(items))
    assert parsed.problems == []
    assert [_key(r) for r in parsed.records] == [_key(r) for r in items]


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), max_size=4).map(_unique))
def test_xlsx_round_trip(items: list[ItemRecord]) -> None:
    parsed = parse_xlsx(serialise_xlsx(items))
    assert parsed.problems == []
    assert [_key(r) for r in parsed.records] == [_key(r) for r in items]


@given(st.lists(st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=8), max_size=6))
def test_parser_never_crashes_on_junk(rows) -> None:
    parsed = parse_rows([COLUMNS, *rows])
    assert len(parsed.records) + len(parsed.problems) >= 0


def test_problems_name_row_and_column() -> None:
    row = dict.fromkeys(COLUMNS, "")
    row.update(code="Q1", framework="F", competency="C", kind="single", stem_en="Stem")
    row.update(options_en="a | b", options_fr="x", answer="3")
    parsed = parse_rows([COLUMNS, [row[c] for c in COLUMNS]])
    assert parsed.records == []
    assert {(p.location, p.column, p.code) for p in parsed.problems} == {
        ("2", "options_fr", "option_count"),
        ("2", "answer", "bad_answer"),
    }
    assert parse_rows([["code", "bogus"]]).problems[0].code == "unknown_column"
    assert parse_csv(b"\xff\xfe").problems[0].code == "encoding"
    assert parse_xlsx(b"not a workbook").problems[0].code == "unreadable"


def test_shipped_bank_covers_ten_competencies_in_three_languages() -> None:
    data = json.loads(EMIS_ITEM_BANK.read_text(encoding="utf-8"))
    per_competency: dict[str, int] = {}
    for item in data["items"]:
        per_competency[item["competency"]] = per_competency.get(item["competency"], 0) + 1
        for lang in ("en", "ar", "fr"):
            assert item["stem"][lang].strip(), item["code"]
            for option in item.get("options", []):
                assert option[lang].strip(), item["code"]
    assert len(per_competency) >= 10
    assert min(per_competency.values()) >= 2


@pytest.mark.django_db
def test_emis_bank_installs_and_round_trips_through_the_database() -> None:
    emis_framework_install()
    created, updated = emis_item_bank_install()
    assert (created, updated) == (len(json.loads(EMIS_ITEM_BANK.read_text())["items"]), 0)
    item = TestItem.objects.get(code="EMIS-SA1-02")
    assert item.numeric_answer == Decimal(90)
    assert item.stem_ar
    assert item.stem_fr
    assert item.competency.code == "SA.1"
    # Export, re-import: every question is an update and nothing changes.
    exported = item_bank_records(
        items=TestItem.objects.select_related("competency__framework").prefetch_related("choices")
    )
    plan = item_bank_plan(records=parse_csv(serialise_csv(exported)).records)
    assert plan.problems == []
    assert plan.created == []
    assert item_bank_apply(actor=None, plan=plan) == (0, created)
    again = item_bank_records(
        items=TestItem.objects.select_related("competency__framework").prefetch_related("choices")
    )
    assert [_key(r) for r in again] == [_key(r) for r in exported]
    call_command("import_test_items", "--emis", verbosity=0)
    assert TestItem.objects.count() == created


@pytest.mark.django_db
def test_plan_reports_unknown_framework_and_competency(tmp_path) -> None:
    emis_framework_install()
    base = dict.fromkeys(COLUMNS, "")
    base.update(kind="true_false", stem_en="S", answer="true")
    rows = [
        {**base, "code": "A", "framework": "NOPE", "competency": "SA.1"},
        {**base, "code": "B", "framework": "EMIS-STAFF", "competency": "ZZ.9"},
        {**base, "code": "C", "framework": "EMIS-STAFF", "competency": "SA"},  # a domain
    ]
    parsed = parse_rows([COLUMNS, *([r[c] for c in COLUMNS] for r in rows)])
    plan = item_bank_plan(records=parsed.records)
    assert [p.code for p in plan.problems] == [
        "item_bank_framework_unknown",
        "item_bank_competency_unknown",
        "test_item_not_a_competency",
    ]
    assert FrameworkItem.objects.filter(code="SA").exists()
    path = tmp_path / "bank.csv"
    path.write_bytes(serialise_csv([]) + b"")
    call_command("import_test_items", str(path), verbosity=0)

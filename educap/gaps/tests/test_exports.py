"""Exports of the unit dashboard: CSV, XLSX and PDF (English and Arabic)."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from educap.gaps.pdf import heat_chunks
from educap.gaps.selectors import GapFilters
from educap.gaps.tests.test_web import rate_everyone
from educap.gaps.web.dashboard import dashboard_read
from educap.gaps.web.exports import CSV_COLUMNS

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(ministry):
    return rate_everyone(ministry)


def _export(client, user, code: str, fmt: str, **params):
    client.force_login(user)
    response = client.get(reverse("gaps:unit_export", args=[code, fmt]), params)
    assert response.status_code == 200, response.content[:300]
    return response


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_csv_has_the_export_gaps_columns_and_numbers(client, ministry, rated):
    response = _export(client, ministry.users["central"], "MOE", "csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode().splitlines()[0] == ",".join(CSV_COLUMNS)
    rows = {(r["unit_code"], r["competency_code"]): r for r in _csv(response)}
    moe = rows[("MOE", "D1.1")]
    assert moe["level_code"] == "ministry"
    assert (moe["in_scope"], moe["assessed"], moe["meeting"], moe["below"], moe["unknown"]) == (
        "8",
        "4",
        "2",
        "2",
        "4",
    )
    assert float(moe["mean_gap"]) == pytest.approx(0.5)
    assert ("G1", "D2.1") in rows
    assert ("G2", "D1.1") in rows


def test_csv_filters_by_role(client, ministry, rated):
    teacher = ministry.people["g1d1_teacher"].role
    rows = _csv(_export(client, ministry.users["central"], "MOE", "csv", role=teacher.pk))
    assert {r["competency_code"] for r in rows} == {"D1.1"}
    assert next(r for r in rows if r["unit_code"] == "MOE")["in_scope"] == "3"  # 3 teachers


def test_partner_exports_suppress_small_cells(client, ministry, rated):
    rows = _csv(_export(client, ministry.users["partner"], "G2", "csv"))
    assert rows
    for row in rows:
        assert row["in_scope"] == "<5"
        assert row["meeting"] == "<5"
        assert row["mean_gap"] == ""
        assert row["weighted_gap_index"] == ""
    book = load_workbook(
        io.BytesIO(_export(client, ministry.users["partner"], "G2", "xlsx").content)
    )
    values = [
        c for row in book.worksheets[0].iter_rows(min_row=3, values_only=True) for c in row[3:]
    ]
    assert "<5" in values
    assert not any(isinstance(v, float) for v in values)


def test_exported_text_cannot_run_as_a_formula(client, ministry, rated):
    unit = ministry.units["G1"]
    unit.code = "G1"
    unit.name = '=HYPERLINK("http://evil")'
    unit.save()
    response = _export(client, ministry.users["central"], "MOE", "xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    names = [row[1] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert '\'=HYPERLINK("http://evil")' in names


def test_xlsx_sheets_hold_numbers(client, ministry, rated):
    response = _export(client, ministry.users["central"], "MOE", "xlsx", measure="gap")
    book = load_workbook(io.BytesIO(response.content))
    heat, tna, recruitment = book.worksheets
    assert [heat.title, tna.title, recruitment.title] == [
        "Heat map",
        "Training needs",
        "Recruitment needs",
    ]
    header = [c.value for c in heat[1]]
    d11 = header.index("D1.1")
    moe = next(row for row in heat.iter_rows(min_row=3, values_only=True) if row[0] == "MOE")
    assert moe[d11] == pytest.approx(0.5)
    tna_rows = list(tna.iter_rows(min_row=2, values_only=True))
    assert tna_rows[0][1] == "D2.1"
    assert isinstance(tna_rows[0][3], int)
    # MOE's recruitment sheet lists MOE and its governorates; the district's own need
    # appears on the governorate's export.
    assert recruitment.max_row >= 1
    governorate = _export(client, ministry.users["central"], "G1", "xlsx", measure="gap")
    sheet = load_workbook(io.BytesIO(governorate.content)).worksheets[2]
    assert any(row[0] == "G1D1" for row in sheet.iter_rows(min_row=2, values_only=True))


def test_heat_chunks_fit_the_page_and_keep_every_competency(ministry, rated):
    board = dashboard_read(
        user=ministry.users["central"],
        unit=ministry.units["MOE"],
        filters=GapFilters(rated.framework),
        measure="share",
    )
    chunks = heat_chunks(board)
    flat = [index for chunk in chunks for index, _item in chunk]
    assert flat == list(range(len(board.competencies)))
    assert all(len(chunk) <= 14 for chunk in chunks)


def _poppler(tool: str, *args: str) -> str:
    """Run a poppler-utils tool (pdftotext, pdfinfo, pdffonts, pdftoppm) on a PDF."""
    path = shutil.which(tool)
    assert path is not None
    return subprocess.run(  # noqa: S603 - fixed tool, arguments from the test itself
        [path, *args], capture_output=True, check=True, text=True
    ).stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", ["Gap dashboard", "Ministry of Education", "D1.1"]), ("ar", ["D1.1", "50%"])],
)
def test_pdf_renders_in_english_and_arabic(client, ministry, rated, tmp_path, language, expected):
    moe = ministry.units["MOE"]
    moe.name_ar = "وزارة التربية والتعليم"
    moe.save()
    client.cookies["django_language"] = language
    response = _export(client, ministry.users["central"], "MOE", "pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    pdf = tmp_path / "out.pdf"
    pdf.write_bytes(response.content)
    pages = re.search(r"Pages:\s+(\d+)", _poppler("pdfinfo", str(pdf)))
    assert pages is not None
    assert int(pages.group(1)) >= 1
    text = _poppler("pdftotext", str(pdf), "-")
    for snippet in expected:
        assert snippet in text
    # The Arabic unit name is set in the vendored Noto Sans Arabic (read from static files;
    # the system has no Arabic font of its own).
    fonts = _poppler("pdffonts", str(pdf))
    assert bool(re.search(r"Noto-?Sans-?Arabic", fonts)) == (language == "ar")
    _poppler("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p"))
    assert list(tmp_path.glob("p*.png"))


def test_export_format_must_be_known(client, ministry, rated):
    client.force_login(ministry.users["central"])
    assert client.get(reverse("gaps:unit_export", args=["MOE", "docx"])).status_code == 404
    client.force_login(ministry.users["teacher"])
    assert client.get(reverse("gaps:unit_export", args=["MOE", "csv"])).status_code == 403


@pytest.mark.parametrize("code", ["MOE", "G1"])
def test_dashboard_numbers_equal_export_gaps(client, ministry, rated, tmp_path, code):
    """What the dashboard shows (its CSV) is what `export_gaps --level unit` writes."""
    from django.core.management import call_command

    page = {
        (r["unit_code"], r["competency_code"]): r
        for r in _csv(_export(client, ministry.users["central"], code, "csv"))
    }
    out = tmp_path / "gaps.csv"
    call_command("export_gaps", "--level", "unit", "--unit", code, "-o", str(out))
    with out.open(encoding="utf-8-sig") as handle:
        command = {(r["unit_code"], r["competency_code"]): r for r in csv.DictReader(handle)}
    assert page
    for key, row in page.items():
        assert key in command, key
        for column in ("in_scope", "assessed", "meeting", "below", "unknown"):
            assert row[column] == command[key][column], (key, column)
        for column in ("mean_gap", "weighted_gap_index"):
            if row[column]:
                assert float(row[column]) == pytest.approx(float(command[key][column]), abs=1e-3)

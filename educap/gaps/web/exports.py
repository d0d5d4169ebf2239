"""Exports of a unit dashboard: CSV (unit x competency rows), XLSX (three sheets) and PDF.

Numbers stay numbers; text that a spreadsheet would run as a formula is protected; cells a
partner viewer may not see are written as "<5" (the small-cell threshold)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from educap.gaps.io.gaps_csv import UNIT_COLUMNS
from educap.gaps.selectors import GapStats
from educap.gaps.web.dashboard import Dashboard, HeatCell
from educap.org.io.units_csv import protect_cell

# The same columns as `manage.py export_gaps --level unit`.
CSV_COLUMNS = UNIT_COLUMNS
COUNT_COLUMNS = ("in_scope", "assessed", "meeting", "below", "unknown")


def _text(value: object) -> str:
    return protect_cell(str(value))


def _hidden(board: Dashboard) -> str:
    return f"<{board.threshold}"


def _ratio(value: float | None) -> float | str:
    return "" if value is None else round(value, 4)


def csv_rows(board: Dashboard) -> list[list[Any]]:
    """Header and one row per unit (the unit itself, then its children) x competency."""
    rows: list[list[Any]] = [list(CSV_COLUMNS)]
    for heat in board.heat_rows:
        for item, cell in zip(board.competencies, heat.cells, strict=True):
            stats = cell.stats
            if stats.in_scope == 0:
                continue
            start = [_text(heat.unit.code), _text(heat.unit.level.code), _text(item.code)]
            if stats.suppressed:
                rows.append([*start, *([_hidden(board)] * len(COUNT_COLUMNS)), "", ""])
                continue
            rows.append(
                [
                    *start,
                    *(getattr(stats, name) for name in COUNT_COLUMNS),
                    _ratio(stats.mean_gap),
                    _ratio(stats.weighted_gap_index),
                ]
            )
    return rows


def csv_response(board: Dashboard, *, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerows(csv_rows(board))
    return response


# --- XLSX ------------------------------------------------------------------------------

BOLD = Font(bold=True)


def _sheet_header(sheet: Any, titles: list[str]) -> None:
    sheet.append(titles)
    for cell in sheet[1]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "B2"


def _heat_value(cell: HeatCell, board: Dashboard) -> float | str | None:
    if cell.stats.suppressed:
        return _hidden(board)
    value = cell.value
    return None if value is None else round(value, 4)


def _number_format(board: Dashboard) -> str:
    return "0.00" if board.measure == "gap" else "0%"


def _widths(sheet: Any, widths: dict[int, float]) -> None:
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width


def workbook(board: Dashboard) -> Workbook:
    book = Workbook()
    heat = book.active
    heat.title = _("Heat map")[:31]
    labels = {"share": _("share meeting"), "gap": _("mean gap"), "index": _("weighted gap index")}
    _sheet_header(
        heat,
        [
            _("Unit code"),
            _("Unit"),
            _("Level"),
            _("All competencies (%(measure)s)") % {"measure": labels[board.measure]},
            *(_text(item.code) for item in board.competencies),
        ],
    )
    heat.append(["", "", "", "", *(_text(item.statement) for item in board.competencies)])
    number_format = _number_format(board)
    for row in board.heat_rows:
        heat.append(
            [
                _text(row.unit.code),
                _text(row.unit.name),
                _text(row.unit.level.name),
                _heat_value(row.overall, board),
                *(_heat_value(cell, board) for cell in row.cells),
            ]
        )
        for cell in heat[heat.max_row][3:]:
            if isinstance(cell.value, float):
                cell.number_format = number_format
    heat.freeze_panes = "D3"
    _widths(heat, {1: 16, 2: 32, 3: 14, 4: 14})

    tna = book.create_sheet(_("Training needs")[:31])
    pairs = board.role_sex_columns
    sexes = {"F": _("women"), "M": _("men")}
    _sheet_header(
        tna,
        [
            _("Rank"),
            _("Competency code"),
            _("Competency"),
            _("People below"),
            _("Mean gap"),
            _("Priority"),
            *(
                _("Below: %(role)s, %(sex)s")
                % {"role": board.roles[role].name, "sex": sexes.get(sex, sex)}
                for role, sex in pairs
            ),
        ],
    )
    for rank, need in enumerate(board.needs, start=1):
        stats: GapStats = need.stats
        hidden = stats.suppressed
        tna.append(
            [
                rank,
                _text(need.item.code),
                _text(need.item.statement),
                _hidden(board) if hidden else stats.below,
                None if hidden or stats.mean_gap is None else round(stats.mean_gap, 4),
                None if hidden else stats.priority,
                *(need.below_by_role_sex.get(pair) for pair in pairs),
            ]
        )
        tna.cell(tna.max_row, 5).number_format = "0.00"
    _widths(tna, {2: 14, 3: 48})

    recruitment = book.create_sheet(_("Recruitment needs")[:31])
    _sheet_header(
        recruitment,
        [
            _("Unit code"),
            _("Unit"),
            _("Role"),
            _("Competency code"),
            _("Competency nobody meets"),
            _("Staff in post"),
            _("Open vacancies"),
            _("Vacancies include the units below"),
        ],
    )
    for need, in_post in board.recruitment_rows:
        recruitment.append(
            [
                _text(need.unit.code),
                _text(need.unit.name),
                _text(need.role.name),
                _text(need.item.code) if need.item else "",
                _text(need.item.statement) if need.item else "",
                (_hidden(board) if in_post is None else in_post) if need.item else None,
                need.vacancies or None,
                (_("yes") if need.below else _("no")) if not need.item else "",
            ]
        )
    _widths(recruitment, {1: 16, 2: 32, 3: 24, 4: 14, 5: 48})
    return book


def xlsx_response(board: Dashboard, *, filename: str) -> HttpResponse:
    buffer = io.BytesIO()
    workbook(board).save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def pdf_response(board: Dashboard, *, filename: str) -> HttpResponse:
    from educap.gaps.pdf import unit_pdf

    response = HttpResponse(unit_pdf(board), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

"""The unit dashboard as an A4 landscape PDF (educap.core.pdf: vendored fonts, no network)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from educap.core.pdf import render_pdf

if TYPE_CHECKING:
    from educap.frameworks.models import FrameworkItem
    from educap.gaps.web.dashboard import Dashboard

# Columns of the heat map per table, so that each fits the width of an A4 landscape page.
COLUMNS_PER_TABLE = 14


def heat_chunks(board: Dashboard) -> list[list[tuple[int, FrameworkItem]]]:
    """The competencies in groups of at most COLUMNS_PER_TABLE, breaking between domains
    where possible; each entry keeps the competency's index into the heat rows' cells."""
    chunks: list[list[tuple[int, FrameworkItem]]] = [[]]
    index = 0
    for group in board.domains:
        entries = [(index + n, item) for n, item in enumerate(group.competencies)]
        index += len(entries)
        if chunks[-1] and len(chunks[-1]) + len(entries) > COLUMNS_PER_TABLE:
            chunks.append([])
        for entry in entries:
            if len(chunks[-1]) >= COLUMNS_PER_TABLE:
                chunks.append([])
            chunks[-1].append(entry)
    return [chunk for chunk in chunks if chunk]


def unit_pdf(board: Dashboard) -> bytes:
    """Render in the active language; Arabic pages are right-to-left throughout."""
    rows = board.heat_rows
    tables = [
        {
            "columns": [item for _, item in chunk],
            "rows": [(row, [row.cells[i] for i, _ in chunk]) for row in rows],
        }
        for chunk in heat_chunks(board)
    ]
    return render_pdf("gaps/pdf/unit.html", {"board": board, "tables": tables})

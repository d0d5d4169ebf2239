"""The unit dashboard as an A4 landscape PDF (WeasyPrint, with the system's Pango).

Fonts are the vendored Noto Sans Arabic and Lao, declared with file:// URLs; the URL
fetcher refuses anything else, so rendering never touches the network."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language, get_language_bidi

if TYPE_CHECKING:
    from educap.frameworks.models import FrameworkItem
    from educap.gaps.web.dashboard import Dashboard

FONTS = {
    ("Noto Sans Arabic", 400): "vendor/fonts/noto-sans-arabic-arabic-400-normal.woff2",
    ("Noto Sans Arabic", 700): "vendor/fonts/noto-sans-arabic-arabic-700-normal.woff2",
    ("Noto Sans Lao", 400): "vendor/fonts/noto-sans-lao-lao-400-normal.woff2",
    ("Noto Sans Lao", 700): "vendor/fonts/noto-sans-lao-lao-700-normal.woff2",
}
# Columns of the heat map per table, so that each fits the width of an A4 landscape page.
COLUMNS_PER_TABLE = 14


def font_faces() -> list[dict[str, Any]]:
    faces = []
    for (family, weight), static_path in FONTS.items():
        found = finders.find(static_path)
        if found:
            faces.append({"family": family, "weight": weight, "url": Path(found).as_uri()})
    return faces


def _fetcher() -> Any:
    """A WeasyPrint URL fetcher that reads the vendored font files and nothing else."""
    from weasyprint.urls import URLFetcher

    allowed = {face["url"] for face in font_faces()}

    class VendoredFontsOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url not in allowed:
                raise ValueError(f"EduCap PDFs fetch nothing but their fonts: {url}")
            return super().fetch(url, headers)

    return VendoredFontsOnly(allowed_protocols=("file",))


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
    from weasyprint import HTML

    rows = board.heat_rows
    tables = [
        {
            "columns": [item for _, item in chunk],
            "rows": [(row, [row.cells[i] for i, _ in chunk]) for row in rows],
        }
        for chunk in heat_chunks(board)
    ]
    html = render_to_string(
        "gaps/pdf/unit.html",
        {
            "board": board,
            "tables": tables,
            "fonts": font_faces(),
            "language": get_language(),
            "direction": "rtl" if get_language_bidi() else "ltr",
            "generated": timezone.localtime(),
        },
    )
    return HTML(string=html, url_fetcher=_fetcher()).write_pdf()  # type: ignore[no-any-return]

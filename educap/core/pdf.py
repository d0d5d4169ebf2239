"""PDF rendering shared by every app (WeasyPrint, with the system's Pango).

Fonts are the vendored Noto Sans Arabic and Lao, declared with file:// URLs; the URL
fetcher refuses anything else, so rendering never touches the network."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language, get_language_bidi

FONTS = {
    ("Noto Sans Arabic", 400): "vendor/fonts/noto-sans-arabic-arabic-400-normal.woff2",
    ("Noto Sans Arabic", 700): "vendor/fonts/noto-sans-arabic-arabic-700-normal.woff2",
    ("Noto Sans Lao", 400): "vendor/fonts/noto-sans-lao-lao-400-normal.woff2",
    ("Noto Sans Lao", 700): "vendor/fonts/noto-sans-lao-lao-700-normal.woff2",
}


def font_faces() -> list[dict[str, Any]]:
    faces = []
    for (family, weight), static_path in FONTS.items():
        found = finders.find(static_path)
        if found:
            faces.append({"family": family, "weight": weight, "url": Path(found).as_uri()})
    return faces


def vendored_fonts_fetcher() -> Any:
    """A WeasyPrint URL fetcher that reads the vendored font files and nothing else."""
    from weasyprint.urls import URLFetcher

    allowed = {face["url"] for face in font_faces()}

    class VendoredFontsOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url not in allowed:
                raise ValueError(f"EduCap PDFs fetch nothing but their fonts: {url}")
            return super().fetch(url, headers)

    return VendoredFontsOnly(allowed_protocols=("file",))


def render_pdf(template: str, context: Mapping[str, Any]) -> bytes:
    """Render `template` to PDF in the active language. The template also gets `fonts`,
    `language`, `direction` ("rtl" for Arabic) and `generated` (now)."""
    from weasyprint import HTML

    html = render_to_string(
        template,
        {
            "fonts": font_faces(),
            "language": get_language(),
            "direction": "rtl" if get_language_bidi() else "ltr",
            "generated": timezone.localtime(),
            **context,
        },
    )
    return HTML(string=html, url_fetcher=vendored_fonts_fetcher()).write_pdf()  # type: ignore[no-any-return]

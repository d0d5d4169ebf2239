"""A certificate as an A4 landscape PDF (WeasyPrint), in any of the installation's languages.

The QR code (segno, drawn inline as SVG) points to the public verification page. Fonts are
the vendored Noto Sans Arabic and Lao, read through educap.core.pdf's no-network URL
fetcher; Arabic pages are laid out right-to-left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import segno
from django.conf import settings
from django.utils import translation
from django.utils.safestring import mark_safe

from educap.core.pdf import render_pdf
from educap.training.credentials import verify_url
from educap.training.selectors.certificates import certificate_course_title

if TYPE_CHECKING:
    from educap.training.models import Certificate


def pdf_language(requested: str | None) -> str:
    """`requested` when the installation offers it, else the active language."""
    offered = [code for code, _name in settings.LANGUAGES]
    if requested in offered:
        return str(requested)
    active = translation.get_language() or settings.LANGUAGE_CODE
    return active if active in offered else settings.LANGUAGE_CODE


def qr_svg(url: str) -> str:
    """The QR code as inline SVG sized by CSS (no width/height of its own)."""
    return str(segno.make(url, error="m").svg_inline(scale=1, border=2, omitsize=True))


def certificate_pdf(certificate: Certificate, *, base: str, language: str) -> bytes:
    address = verify_url(certificate, base)
    with translation.override(language):
        return render_pdf(
            "training/certificate_pdf.html",
            {
                "certificate": certificate,
                "course_title": certificate_course_title(certificate, language),
                "name_local": certificate.person.name_local,
                "verify_url": address,
                "qr": mark_safe(qr_svg(address)),  # noqa: S308 - segno's own SVG, no user text
            },
        )

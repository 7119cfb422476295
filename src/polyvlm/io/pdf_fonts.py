"""Whether a PDF page draws text in fonts it does not carry (the viewer substitutes one: shapes may differ)."""

from __future__ import annotations

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c


def non_embedded_fonts(page: pdfium.PdfPage) -> int:
    """How many of the page's text objects use a font the file does not embed."""
    count = 0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]):
        font = pdfium_c.FPDFTextObj_GetFont(obj.raw)
        if font and not pdfium_c.FPDFFont_GetIsEmbedded(font):
            count += 1
    return count

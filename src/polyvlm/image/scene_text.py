"""scene_text: the text written in a photo (signs, labels, menus), found and read by PP-OCRv5, kept in its metadata.

Every line the detector finds is read by the recogniser; lines read with less than `min_confidence`
are left out. The result, `metadata.scene_text` (text, box, confidence per line, top to bottom), is
what photo_text_qa grounds its questions in and ocr_photo_data turns into OCR targets. Image-only PDF
pages (read_pdf with `require_text: false`) are read the same way. A photo without text passes unchanged.
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
from polyvlm.image.decode import decode
from polyvlm.image.line_crops import line_crops


class SceneTextParams(Params):
    """Parameters of scene_text."""

    min_confidence: float = Field(0.8, ge=0, le=1)
    """lines the recogniser reads with less confidence are left out"""
    threads: int = Field(1, ge=1)
    """OCR threads per worker process"""


@register
class SceneText(MapStep):
    """Find and read the text in each photo (PP-OCRv5 detector + recogniser) into metadata.scene_text."""

    name = "scene_text"
    Params = SceneTextParams

    def check(self) -> None:
        try:
            self.ensure_setup()
        except (OcrMissing, ModuleNotFoundError) as e:
            raise RecipeError(f"step {self.label}: {e}") from None

    def setup(self) -> None:
        self._detector = LineDetector(threads=self.params.threads)
        self._reader = LineOcr(threads=self.params.threads)

    def apply(self, record: Record) -> Record | Drop:
        if not isinstance(record, Sample) or not record.images:
            return record
        # photos, and PDF pages without a text layer (read_pdf with require_text: false): scans to read
        scan = record.task == "pdf_page" and not str(record.metadata.get("text", "")).strip()
        if record.task not in ("photo", "") and not scan:
            return record
        self.ensure_setup()
        image = record.images[0]
        if image.data is not None:
            data = image.data
        else:
            try:
                with open(image.path, "rb") as f:
                    data = f.read()
            except OSError as e:
                return Drop("image_unreadable", f"{image.path}: {e.strerror or e}")
        decoded = decode(data)  # the pixel cap and format check before any pixel is read
        if isinstance(decoded, Drop):
            return decoded
        try:
            picture = Image.open(io.BytesIO(data)).convert("RGB")
        except (UnidentifiedImageError, OSError) as e:
            return Drop("undecodable_image", str(e))
        image.width, image.height = picture.size  # what position questions about the text are relative to
        boxes = self._detector.detect(picture)
        # a box is read as a row; a tall one (a vertical sign) is turned first, as line_crops does
        reads = (
            self._reader.read(line_crops(picture, [{"text": "??", "box": b} for b in boxes])) if boxes else []
        )
        record.metadata["scene_text"] = [
            {"text": text, "box": box, "confidence": round(conf, 4)}
            for box, (text, conf) in zip(boxes, reads, strict=True)
            if text.strip() and conf >= self.params.min_confidence
        ]
        return record

"""A page's ground-truth lines read back by PP-OCRv5: whole, and per segment where leaders or gaps cut them.

Every line is read from its crop (image/line_crops.py). A line with leader dots or wide gaps
(render/line_segments.py) is also read per segment: PP-OCRv5's detector finds the text boxes inside the
line's crop, each box is read on its own, boxes that read as dots only are left out, and the rest are
joined in reading order. The line keeps whichever reading is closer to its ground truth: the gate asks
whether the text can be read, and a wide TOC box read whole loses its texts to the dots.

A line whose best reading misses a number of its ground truth is read again, stretched along the line
(×1.5, ×2) and per segment: the recogniser drops a narrow digit between two wide glyphs (第1章 reads
as 第章 on clean renders), and a stretched crop gives its narrow glyphs more CTC frames. A number
counts as read when any of these readings holds it exactly, and no reading makes up the digits of a
wrong ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image
from rapidfuzz.distance import Levenshtein

from polyvlm.clients.ocr import LineOcr
from polyvlm.clients.ocr_detect import LineDetector
from polyvlm.image.line_crops import is_column, line_crops
from polyvlm.render.cer import comparable
from polyvlm.render.line_segments import is_segmented
from polyvlm.render.number_check import number_mismatch

PAD = 16  # white border around a line crop: the detector finds no box that touches the image's edge
STRETCHES = (1.5, 2.0)


@dataclass(slots=True)
class LineRead:
    """One line's best reading and its edit distance to the ground truth (both compared as cer.comparable)."""

    truth: str
    read: str
    errors: int
    length: int
    segmented: bool
    column: bool
    mismatch: str | None = None
    """`TRUTH read as READ` when no reading holds a number of the ground truth exactly"""


def _segment_read(crop: Image.Image, ocr: LineOcr, detector: LineDetector) -> str:
    padded = Image.new("RGB", (crop.width + 2 * PAD, crop.height + 2 * PAD), "white")
    padded.paste(crop.convert("RGB"), (PAD, PAD))
    boxes = sorted(detector.detect(padded), key=lambda b: b[0])  # one line: reading order is left to right
    reads = ocr.read([padded.crop(tuple(b)) for b in boxes]) if boxes else []
    return " ".join(text for text, _ in reads if comparable(text))


def read_lines(
    image: Image.Image, lines: list[dict[str, Any]], ocr: LineOcr, detector: LineDetector
) -> list[LineRead]:
    """Every line read back, the segmented ones per segment too, with the closer reading kept."""
    crops = line_crops(image, lines)
    whole = ocr.read(crops)
    out = []
    for line, crop, (text, _) in zip(lines, crops, whole, strict=True):
        truth = comparable(line["text"])
        best, errors, segmented = text, Levenshtein.distance(comparable(text), truth), False
        if errors and is_segmented(line["text"]):
            per_segment = _segment_read(crop, ocr, detector)
            seg_errors = Levenshtein.distance(comparable(per_segment), truth)
            if seg_errors < errors:
                best, errors, segmented = per_segment, seg_errors, True
        read = LineRead(line["text"], best, errors, len(truth), segmented, is_column(line))
        read.mismatch = number_mismatch(best, line["text"])
        if read.mismatch:
            read.mismatch = _reread_numbers(crop, line["text"], read.mismatch, ocr, detector)
        out.append(read)
    return out


def _reread_numbers(
    crop: Image.Image, truth: str, mismatch: str, ocr: LineOcr, detector: LineDetector
) -> str | None:
    """None when a stretched or per-segment reading holds every number of the truth, else the first mismatch."""
    stretched = [crop.resize((round(crop.width * f), crop.height)) for f in STRETCHES]
    readings = [text for text, _ in ocr.read(stretched)] + [_segment_read(crop, ocr, detector)]
    if any(number_mismatch(text, truth) is None for text in readings):
        return None
    return mismatch

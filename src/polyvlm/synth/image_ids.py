"""normalize_image_id: one spelling of an image's id across datasets (COCO_val2014_000000441147.jpg == 441147)."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

# COCO file names carry the split and a zero-padded number; LLaVA-Bench and most VQA sets write the bare
# number (000000441147.jpg), some the split too (COCO_train2014_...): all name the same COCO image
_COCO = re.compile(r"^coco_(?:train|val|test)\d{4}_(\d+)$")


def normalize_image_id(name: str) -> str:
    """The id of an image file name, path or URL: lower-case stem, COCO prefix dropped, leading zeros dropped."""
    if "://" in name:
        name = urlsplit(name).path
    stem = os.path.splitext(os.path.basename(name.strip()))[0].lower()
    m = _COCO.match(stem)
    if m:
        stem = m.group(1)
    if stem.isascii() and stem.isdigit():
        stem = str(int(stem))
    return stem

"""The crops of a page's lines for OCR: each box with a margin, vertical columns turned to read left to right."""

from __future__ import annotations

from typing import Any

from PIL import Image


def line_crops(image: Image.Image, lines: list[dict[str, Any]], margin: int = 4) -> list[Image.Image]:
    """One crop per line box (x0, y0, x1, y1 in pixels); a column taller than wide is turned 90° left."""
    crops = []
    for line in lines:
        x0, y0, x1, y1 = line["box"]
        crop = image.crop(
            (
                max(0, x0 - margin),
                max(0, y0 - margin),
                min(image.width, x1 + margin),
                min(image.height, y1 + margin),
            )
        )
        if crop.height >= 1.5 * crop.width and len(line["text"]) > 1:
            # the recogniser reads rows: a column turned counter-clockwise reads top-down as left-right
            crop = crop.transpose(Image.Transpose.ROTATE_90)
        crops.append(crop)
    return crops

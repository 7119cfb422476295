"""The crops of a page's lines for OCR: each box with a margin, vertical columns turned to read left to right."""

from __future__ import annotations

from typing import Any

from PIL import Image

BLANK_SIDE = 8  # side of the blank crop that stands for a box off the image


def is_column(line: dict[str, Any]) -> bool:
    """Whether a line is a vertical column: as its renderer says (`vertical`), else taller than wide by half again.

    The renderer knows the writing mode; the shape alone takes a narrow horizontal "11" (two thin digits in a
    table cell) for a column and turns it sideways."""
    if "vertical" in line:
        return bool(line["vertical"]) and len(line["text"]) > 1  # one glyph reads upright either way
    x0, y0, x1, y1 = line["box"]
    return (y1 - y0) >= 1.5 * (x1 - x0) and len(line["text"]) > 1


def line_crops(image: Image.Image, lines: list[dict[str, Any]], margin: int = 4) -> list[Image.Image]:
    """One crop per line box (x0, y0, x1, y1 in pixels); a column taller than wide is turned 90° left.

    The margin extends a line along its direction only: across it the box already spans the font's
    ascent to descent, and what lies beyond is a neighbour's (the next line, ruby). A box off the image
    gives a blank crop, which reads as nothing: all of its line counts as errors."""
    crops = []
    for line in lines:
        x0, y0, x1, y1 = line["box"]
        column = is_column(line)
        mx, my = (0, margin) if column else (margin, 0)
        left, top = max(0, x0 - mx), max(0, y0 - my)
        right, bottom = min(image.width, x1 + mx), min(image.height, y1 + my)
        if right <= left or bottom <= top:
            crops.append(Image.new(image.mode, (BLANK_SIDE, BLANK_SIDE), "white"))
            continue
        crop = image.crop((left, top, right, bottom))
        if column:
            # the recogniser reads rows: a column turned counter-clockwise reads top-down as left-right
            crop = crop.transpose(Image.Transpose.ROTATE_90)
        crops.append(crop)
    return crops

"""Resize before tiling: both sides to whole patches, the pixel count inside a budget (jina-vlm's ``smart_resize``).

Given ``width`` x ``height``, a patch size ``f`` (14) and a budget ``[min_pixels, max_pixels]``:

- round each side to the nearest multiple of ``f``: ``w' = round(width / f) * f`` (same for ``h'``);
- if ``w' * h' > max_pixels``: ``beta = sqrt(width * height / max_pixels)`` and each side becomes
  ``max(f, floor(side / beta / f) * f)`` (shrunk, aspect ratio kept as closely as whole patches allow);
- if ``w' * h' < min_pixels``: ``beta = sqrt(min_pixels / (width * height))`` and each side becomes
  ``ceil(side * beta / f) * f`` (enlarged).

The defaults are the reference image processor's: ``min_pixels = 56 * 56`` and
``max_pixels = 28 * 28 * 1280`` (1,003,520, about a 1002 x 1002 image). An aspect ratio above 200 is
refused, as in the reference. ``round`` is Python's (half to even), as in the reference.
"""

from __future__ import annotations

import math

DEFAULT_MIN_PIXELS = 56 * 56
DEFAULT_MAX_PIXELS = 28 * 28 * 1280
MAX_ASPECT_RATIO = 200


def budget_size(
    width: int,
    height: int,
    factor: int = 14,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[int, int]:
    """(width, height) of the image after resizing to multiples of ``factor`` within the pixel budget."""
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    if max(width, height) / min(width, height) > MAX_ASPECT_RATIO:
        raise ValueError(
            f"a {width}x{height} image has an aspect ratio above {MAX_ASPECT_RATIO}: crop or pad it first"
        )
    w, h = round(width / factor) * factor, round(height / factor) * factor
    if w * h > max_pixels:
        beta = math.sqrt(width * height / max_pixels)
        w = max(factor, math.floor(width / beta / factor) * factor)
        h = max(factor, math.floor(height / beta / factor) * factor)
    elif w * h < min_pixels:
        beta = math.sqrt(min_pixels / (width * height))
        w = math.ceil(width * beta / factor) * factor
        h = math.ceil(height * beta / factor) * factor
    return w, h

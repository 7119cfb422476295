"""Inputs the model tests share: the bundled photo and reproducible noise images.

A module of its own, not conftest.py: several test folders have a conftest, and `from conftest import`
gets whichever was imported first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

PHOTO = Path(__file__).parents[2] / "examples/data/photos/easyocr__japanese.jpg"  # see its PROVENANCE.md


def noise_image(width: int, height: int, seed: int = 0) -> Image.Image:
    """A reproducible RGB noise image."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels)

"""Generated paper and background textures for synthetic OCR images (no image files needed, seeded)."""

from __future__ import annotations

import random

import numpy as np
from PIL import Image, ImageFilter


def _noise_field(rng: random.Random, size: tuple[int, int], scale: int) -> np.ndarray:
    """Smooth noise in [-1, 1]: random values on a coarse grid, scaled up bicubically."""
    w, h = size
    coarse = np.random.default_rng(rng.randrange(2**32)).uniform(
        -1, 1, (max(2, h // scale), max(2, w // scale))
    )
    img = Image.fromarray(((coarse + 1) * 127.5).astype(np.uint8)).resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(img, np.float32) / 127.5 - 1


def paper(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A sheet of paper: a light tint, blotches, fibres and grain."""
    w, h = size
    tint = np.array([rng.uniform(225, 255), rng.uniform(220, 252), rng.uniform(205, 245)], np.float32)
    blotch = _noise_field(rng, size, rng.choice([40, 80, 160]))[:, :, None] * rng.uniform(3, 12)
    grain = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(1, 5), (h, w, 1))
    arr = np.clip(tint + blotch + grain, 0, 255).astype(np.uint8)
    sheet = Image.fromarray(arr, "RGB")
    return sheet.filter(ImageFilter.GaussianBlur(rng.uniform(0, 0.8)))


def background(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """What the paper lies on: a darker, coloured, smoothly varying surface (a desk, a cloth)."""
    base = np.array([rng.uniform(40, 180) for _ in range(3)], np.float32)
    field = _noise_field(rng, size, rng.choice([16, 32, 64]))[:, :, None] * rng.uniform(10, 40)
    return Image.fromarray(np.clip(base + field, 0, 255).astype(np.uint8), "RGB")

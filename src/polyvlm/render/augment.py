"""Camera-like degradations of a synthetic OCR image that keep its line boxes true: perspective, blur, noise, JPEG."""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageFilter

Box = list[int]


def _homography(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> np.ndarray:
    """The 3x3 matrix that maps the four src points onto the four dst points."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    h = np.linalg.solve(np.array(rows, float), np.array(rhs, float))
    return np.append(h, 1).reshape(3, 3)


def _map(m: np.ndarray, x: float, y: float) -> tuple[float, float]:
    u, v, w = m @ np.array([x, y, 1.0])
    return u / w, v / w


def perspective(
    image: Image.Image, boxes: list[Box], rng: random.Random, strength: float
) -> tuple[Image.Image, list[Box]]:
    """The image seen slightly off-axis (corners moved by up to `strength` of the side); boxes follow."""
    w, h = image.size
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    moved = [
        (x + rng.uniform(-1, 1) * strength * w, y + rng.uniform(-1, 1) * strength * h) for x, y in corners
    ]
    forward = _homography(corners, moved)
    # PIL's transform wants the map from output pixels back to input pixels
    inverse = _homography(moved, corners)
    warped = image.transform(
        (w, h),
        Image.Transform.PERSPECTIVE,
        tuple(inverse.flatten()[:8]),
        Image.Resampling.BICUBIC,
        fillcolor=(90, 90, 90),
    )
    out = []
    for x0, y0, x1, y1 in boxes:
        pts = [_map(forward, x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
        out.append(
            [
                max(0, int(min(p[0] for p in pts))),
                max(0, int(min(p[1] for p in pts))),
                min(w, int(np.ceil(max(p[0] for p in pts)))),
                min(h, int(np.ceil(max(p[1] for p in pts)))),
            ]
        )
    return warped, out


def blur(image: Image.Image, radius: float) -> Image.Image:
    """Out of focus by a Gaussian of `radius` pixels."""
    return image.filter(ImageFilter.GaussianBlur(radius))


def noise(image: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    """Sensor noise: Gaussian, `sigma` grey levels."""
    arr = np.asarray(image, np.float32)
    arr = arr + np.random.default_rng(rng.randrange(2**32)).normal(0, sigma, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), image.mode)


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    """The image after a JPEG round trip at `quality`."""
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert(image.mode)

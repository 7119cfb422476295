"""Overlapping tiling: which (rows, cols) grid an image gets, and where each tile is cut.

A tile is a square crop the vision encoder sees whole (378 px = 27 patches of 14 px for SigLIP-So400M).
Neighbouring tiles overlap by two margins (4 patches each side by default), so a tile advances by
``stride = crop - 2 * margin`` (266 px) and a grid of n tiles covers ``n * stride + 2 * margin`` pixels
(n * 266 + 112). The margins give every kept patch some context from its neighbour tile; the model
later keeps each part of the image from one tile only (see ``tile_layout.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TileGeometry:
    """Sizes of a tile in patches and pixels."""

    patch_size: int = 14
    crop_patches: int = 27
    margin_patches: int = 4

    def __post_init__(self) -> None:
        if self.crop_patches - 2 * self.margin_patches < 1:
            raise ValueError(
                f"margins of {self.margin_patches} patches leave nothing of a {self.crop_patches}-patch tile"
            )

    @property
    def crop_size(self) -> int:
        """Tile side in pixels (378)."""
        return self.crop_patches * self.patch_size

    @property
    def stride_patches(self) -> int:
        """How far one tile advances over the previous one, in patches (19)."""
        return self.crop_patches - 2 * self.margin_patches

    @property
    def stride(self) -> int:
        """How far one tile advances over the previous one, in pixels (266)."""
        return self.stride_patches * self.patch_size

    @property
    def overlap(self) -> int:
        """Pixels shared by two neighbouring tiles (112)."""
        return 2 * self.margin_patches * self.patch_size

    def span(self, tiles: int) -> int:
        """Pixels covered by ``tiles`` tiles along one axis: ``tiles * stride + overlap``."""
        return tiles * self.stride + self.overlap

    def span_patches(self, tiles: int) -> int:
        """Patches along one axis of the image-wide grid of ``tiles`` tiles without pooling (each kept once)."""
        return tiles * self.stride_patches + 2 * self.margin_patches


DEFAULT_GEOMETRY = TileGeometry()  # SigLIP-So400M/14 at 378 px: 27 patches a side, margins of 4


def candidate_grids(max_tiles: int) -> list[tuple[int, int]]:
    """Every (rows, cols) with rows * cols <= max_tiles, rows first then cols ascending."""
    if max_tiles < 1:
        raise ValueError(f"max_tiles must be at least 1, got {max_tiles}")
    return [(r, c) for r in range(1, max_tiles + 1) for c in range(1, max_tiles + 1) if r * c <= max_tiles]


def select_grid(
    width: int, height: int, max_tiles: int, geometry: TileGeometry = DEFAULT_GEOMETRY
) -> tuple[int, int]:
    """The (rows, cols) tiling of the paper's Algorithm 1 (and the reference code) for ``width`` x ``height``.

    The margins are taken off first: the image is treated as ``(height - overlap) x (width - overlap)``
    (112 px less a side) to be covered by tiles of ``stride`` px (266), so a grid's scale is
    ``min(rows * stride / (height - overlap), cols * stride / (width - overlap))``. When every grid would
    shrink the image (scale < 1) the largest scale wins (least downscaling); otherwise the smallest
    scale >= 1 wins (least upscaling, the closest fit). Ties go to fewer tiles, then to fewer rows.

    As in the reference, scales are float32 quotients; a side no larger than the overlap gives a
    quotient of +inf (exactly the overlap) or a negative one (smaller), which the rules above then rank.
    """
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    grids = sorted(candidate_grids(max_tiles), key=lambda g: (g[0] * g[1], g[0]))
    spans = np.asarray(grids, dtype=np.float32) * np.float32(geometry.stride)
    inner = np.asarray([height - geometry.overlap, width - geometry.overlap], dtype=np.float32)
    with np.errstate(divide="ignore"):
        scales = (spans / inner).min(axis=1)
    # argmax / argmin return the first best index: the sort above makes that the fewest tiles, then rows.
    best = (
        int(np.argmax(scales)) if (scales < 1).all() else int(np.argmin(np.where(scales < 1, np.inf, scales)))
    )
    return grids[best]


def tile_boxes(
    rows: int, cols: int, geometry: TileGeometry = DEFAULT_GEOMETRY
) -> list[tuple[int, int, int, int]]:
    """Boxes (left, top, right, bottom) of the tiles in row-major order, on the image resized to the span."""
    size, stride = geometry.crop_size, geometry.stride
    return [
        (c * stride, r * stride, c * stride + size, r * stride + size)
        for r in range(rows)
        for c in range(cols)
    ]

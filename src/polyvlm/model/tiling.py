"""Overlapping tiling: which (rows, cols) grid an image gets, and where each tile is cut.

A tile is a square crop the vision encoder sees whole (378 px = 27 patches of 14 px for SigLIP-So400M).
Neighbouring tiles overlap by two margins (4 patches each side by default), so a tile advances by
``stride = crop - 2 * margin`` (266 px) and a grid of n tiles covers ``n * stride + 2 * margin`` pixels
(n * 266 + 112). The margins give every kept patch some context from its neighbour tile; the model
later keeps each interior patch once (see ``stitching.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


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
        """Patches along one axis of the stitched grid of ``tiles`` tiles, each patch kept once."""
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
    """The (rows, cols) tiling needing the least scale change for an image of ``width`` x ``height``.

    A grid's scale is the factor that fits the image inside its span, ``min(span_h / height, span_w / width)``.
    When every grid would shrink the image (scale < 1) the largest scale wins (least downscaling);
    otherwise the smallest scale >= 1 wins (least upscaling, the closest fit). Ties go to fewer tiles,
    then to fewer rows, so the choice is deterministic.
    """
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    grids = candidate_grids(max_tiles)
    scales = [min(geometry.span(r) / height, geometry.span(c) / width) for r, c in grids]
    if all(s < 1 for s in scales):
        best = max(range(len(grids)), key=lambda i: (scales[i], -grids[i][0] * grids[i][1], -grids[i][0]))
    else:
        fits = [i for i in range(len(grids)) if scales[i] >= 1]
        best = min(fits, key=lambda i: (scales[i], grids[i][0] * grids[i][1], grids[i][0]))
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

"""Which pooled positions of each tile reach the sequence, and how they form one grid of the whole image.

Each tile is pooled on its own: its ``P x P`` patches (27) are zero-padded to a multiple of the window
``k`` and pooled to ``T x T`` positions, ``T = ceil(P / k)`` (14); pooling windows never cross a tile
seam. Neighbouring tiles share ``2m`` patches (m = 4 margin patches a side), so along each axis a
tile keeps only a band of its pooled positions (the reference's rule, in pooled cells):

- start: ``0`` for the first tile, else ``m / k`` (its inner margin belongs to the neighbour);
- length: ``ceil((s + m*[first] + m*[last]) / k)`` with stride ``s = P - 2m`` (19): the tile's centre,
  plus its outer margin when it lies on the image border.

So an edge tile keeps 12 pooled rows (0..11 or 2..13), a middle tile 10 (2..11), a lone tile all 14.
The kept bands are laid side by side into one image-wide grid, row-major, which is the order of the
``<im_patch>`` tokens. With ``k = 1`` (no pooling) the same rule keeps each image patch exactly once.
"""

from __future__ import annotations

import torch

from polyvlm.model.tiling import TileGeometry


def check_pool(geometry: TileGeometry, pool: int) -> None:
    """Refuse a margin the pooling window does not divide (the kept bands would split windows)."""
    if pool < 1 or geometry.margin_patches % pool:
        raise ValueError(
            f"a margin of {geometry.margin_patches} patches needs a pooling window dividing it, got {pool}"
        )


def pooled_side(geometry: TileGeometry, pool: int) -> int:
    """Pooled positions along one side of a tile: ``ceil(P / k)``."""
    return -(-geometry.crop_patches // pool)


def kept_range(index: int, count: int, geometry: TileGeometry, pool: int) -> tuple[int, int]:
    """[start, stop) of the pooled positions tile ``index`` of ``count`` keeps along one axis."""
    check_pool(geometry, pool)
    first, last = index == 0, index == count - 1
    margin = geometry.margin_patches
    patches = geometry.stride_patches + margin * first + margin * last
    start = 0 if first else margin // pool
    return start, start + -(-patches // pool)


def region_side(tiles: int, geometry: TileGeometry, pool: int) -> int:
    """Positions along one axis of the image-wide grid of ``tiles`` tiles."""
    return sum(stop - start for start, stop in (kept_range(i, tiles, geometry, pool) for i in range(tiles)))


def assemble_tiles(
    tiles: torch.Tensor, rows: int, cols: int, geometry: TileGeometry, pool: int
) -> torch.Tensor:
    """(rows*cols, T, T, D) pooled tiles in row-major order -> (region_side(rows), region_side(cols), D)."""
    if tiles.shape[0] != rows * cols:
        raise ValueError(f"{tiles.shape[0]} tiles for a {rows}x{cols} grid")
    bands = []
    for r in range(rows):
        top, bottom = kept_range(r, rows, geometry, pool)
        pieces = []
        for c in range(cols):
            left, right = kept_range(c, cols, geometry, pool)
            pieces.append(tiles[r * cols + c, top:bottom, left:right])
        bands.append(torch.cat(pieces, dim=1))
    return torch.cat(bands, dim=0)

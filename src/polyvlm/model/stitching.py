"""Stitch per-tile patch features into one grid of the whole image, each patch kept once.

Neighbouring tiles share ``2 * margin`` patches. Every tile keeps its centre (``stride`` patches per
axis) and gives up its margins to its neighbours; a tile on the image border also keeps its outer
margin, since no neighbour covers it. So n tiles along an axis give ``n * stride + 2 * margin``
patches, exactly the patches of the resized image, each from the tile where it sat furthest from an edge.
"""

from __future__ import annotations

import torch


def kept_range(index: int, count: int, crop_patches: int, margin: int) -> tuple[int, int]:
    """Patch range [start, end) one tile keeps along an axis: the centre, plus the outer margin at a border."""
    start = 0 if index == 0 else margin
    end = crop_patches if index == count - 1 else crop_patches - margin
    return start, end


def stitch_tiles(tiles: torch.Tensor, rows: int, cols: int, margin: int) -> torch.Tensor:
    """(rows*cols, P, P, D) tile features in row-major order -> (rows*s + 2m, cols*s + 2m, D) image grid."""
    if tiles.shape[0] != rows * cols:
        raise ValueError(f"{tiles.shape[0]} tiles for a {rows}x{cols} grid")
    crop = tiles.shape[1]
    grid_rows = []
    for r in range(rows):
        top, bottom = kept_range(r, rows, crop, margin)
        pieces = []
        for c in range(cols):
            left, right = kept_range(c, cols, crop, margin)
            pieces.append(tiles[r * cols + c, top:bottom, left:right])
        grid_rows.append(torch.cat(pieces, dim=1))
    return torch.cat(grid_rows, dim=0)

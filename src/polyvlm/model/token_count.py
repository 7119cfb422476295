"""How many tokens an image takes in the LM sequence: the layout and its exact count.

An image becomes two regions, the global thumbnail then the tiles, each written as::

    <im_start> (<im_patch> * w <im_col>) * h <im_end>

where h x w is the region's grid of pooled tokens. With ``P`` patches per tile side (27), margin ``m``
(4), stride ``s = P - 2m`` (19) and pooling window ``k`` (2; 1 = no pooling):

- thumbnail grid: ``h0 = w0 = ceil(P / k)``                                      (14 x 14)
- tiles grid for R rows x C cols: each tile is pooled on its own and keeps a band of its pooled
  positions (``tile_layout.py``): along an axis of n tiles, ``ceil((s + 2m) / k)`` for a lone tile,
  else ``2 * ceil((s + m) / k) + (n - 2) * ceil(s / k)`` (two edge tiles, n - 2 middle ones);
- tokens = ``(h0*(w0+1) + 2) + (h*(w+1) + 2)``; of these ``h0*w0 + h*w`` are ``<im_patch>``.

This is the reference's ``molmo_get_n_image_patches``. For 1176x910 at 12 tiles the pixel budget first
resizes the image to 1134x868 (``pixel_budget.py``), which gets 3 rows x 4 cols: h = 12 + 10 + 12 = 34,
w = 12 + 10 + 10 + 12 = 44, so 212 + 1532 = 1744 tokens with pooling; the same layout without pooling
(k = 1: 65 x 84 patches) takes 758 + 5527 = 6285.
"""

from __future__ import annotations

from polyvlm.model.pixel_budget import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, budget_size
from polyvlm.model.tile_layout import pooled_side, region_side
from polyvlm.model.tiling import DEFAULT_GEOMETRY, TileGeometry, select_grid


def region_grids(
    rows: int, cols: int, geometry: TileGeometry = DEFAULT_GEOMETRY, pool: int = 2
) -> list[tuple[int, int]]:
    """The (height, width) in pooled tokens of the thumbnail region and of the tiles region."""
    thumb = pooled_side(geometry, pool)
    return [(thumb, thumb), (region_side(rows, geometry, pool), region_side(cols, geometry, pool))]


def image_feature_count(
    rows: int, cols: int, geometry: TileGeometry = DEFAULT_GEOMETRY, pool: int = 2
) -> int:
    """Number of ``<im_patch>`` tokens (visual features) an image with this grid takes."""
    return sum(h * w for h, w in region_grids(rows, cols, geometry, pool))


def image_token_count(rows: int, cols: int, geometry: TileGeometry = DEFAULT_GEOMETRY, pool: int = 2) -> int:
    """All tokens an image with this grid takes: patches, one ``<im_col>`` per row, start and end per region."""
    return sum(h * (w + 1) + 2 for h, w in region_grids(rows, cols, geometry, pool))


def grid_for_image_size(
    width: int,
    height: int,
    max_tiles: int = 12,
    geometry: TileGeometry = DEFAULT_GEOMETRY,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[int, int]:
    """(rows, cols) of an image of ``width`` x ``height`` pixels: pixel budget first, then Algorithm 1."""
    width, height = budget_size(width, height, geometry.patch_size, min_pixels, max_pixels)
    return select_grid(width, height, max_tiles, geometry)


def tokens_for_image_size(
    width: int,
    height: int,
    max_tiles: int = 12,
    geometry: TileGeometry = DEFAULT_GEOMETRY,
    pool: int = 2,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> int:
    """All tokens an image of ``width`` x ``height`` pixels takes under a ``max_tiles`` budget."""
    rows, cols = grid_for_image_size(width, height, max_tiles, geometry, min_pixels, max_pixels)
    return image_token_count(rows, cols, geometry, pool)

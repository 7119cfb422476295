"""How many tokens an image takes in the LM sequence: the layout and its exact count.

An image becomes two regions, the global thumbnail then the stitched tiles, each written as::

    <im_start> (<im_patch> * w <im_col>) * h <im_end>

where h x w is the region's grid of pooled patch tokens. With ``P`` patches per tile side (27), margin
``m`` (4), stride ``s = P - 2m`` (19) and pooling window ``k`` (2; 1 = no pooling):

- thumbnail grid: ``h0 = w0 = ceil(P / k)``                                  (14 x 14)
- tiles grid for R rows x C cols: ``h = ceil((R*s + 2m) / k)``, ``w = ceil((C*s + 2m) / k)``
  (the stitched patch grid keeps each interior patch once: R*s + 2m patches, not R*P)
- tokens = ``(h0*(w0+1) + 2) + (h*(w+1) + 2)``; of these ``h0*w0 + h*w`` are ``<im_patch>``.

For 1176x910 at 12 tiles (3 rows x 4 cols): h = ceil(65/2) = 33, w = ceil(84/2) = 42, so
212 + 1421 = 1633 tokens with pooling, 758 + 5527 = 6285 without.
"""

from __future__ import annotations

from polyvlm.model.tiling import DEFAULT_GEOMETRY, TileGeometry, select_grid


def pooled(patches: int, pool: int) -> int:
    """Pooled tokens along one axis of ``patches`` patches: odd counts are padded to a full window."""
    return -(-patches // pool)


def region_grids(
    rows: int, cols: int, geometry: TileGeometry = DEFAULT_GEOMETRY, pool: int = 2
) -> list[tuple[int, int]]:
    """The (height, width) in pooled tokens of the thumbnail region and of the tiles region."""
    thumb = pooled(geometry.crop_patches, pool)
    return [
        (thumb, thumb),
        (pooled(geometry.span_patches(rows), pool), pooled(geometry.span_patches(cols), pool)),
    ]


def image_feature_count(
    rows: int, cols: int, geometry: TileGeometry = DEFAULT_GEOMETRY, pool: int = 2
) -> int:
    """Number of ``<im_patch>`` tokens (visual features) an image with this grid takes."""
    return sum(h * w for h, w in region_grids(rows, cols, geometry, pool))


def image_token_count(rows: int, cols: int, geometry: TileGeometry = DEFAULT_GEOMETRY, pool: int = 2) -> int:
    """All tokens an image with this grid takes: patches, one ``<im_col>`` per row, start and end per region."""
    return sum(h * (w + 1) + 2 for h, w in region_grids(rows, cols, geometry, pool))


def tokens_for_image_size(
    width: int, height: int, max_tiles: int = 12, geometry: TileGeometry = DEFAULT_GEOMETRY, pool: int = 2
) -> int:
    """All tokens an image of ``width`` x ``height`` pixels takes under a ``max_tiles`` budget."""
    rows, cols = select_grid(width, height, max_tiles, geometry)
    return image_token_count(rows, cols, geometry, pool)

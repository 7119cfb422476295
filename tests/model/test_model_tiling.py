"""Tiling: grid choice, tile boxes, the thumbnail and tiles the image processor cuts."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import noise_image
from polyvlm.model.image_processing import PolyVLMImageProcessor
from polyvlm.model.tiling import DEFAULT_GEOMETRY as G
from polyvlm.model.tiling import TileGeometry, candidate_grids, select_grid, tile_boxes


def test_geometry_of_siglip_so400m_tiles():
    assert (G.crop_size, G.stride, G.overlap) == (378, 266, 112)
    assert [G.span(n) for n in (1, 2, 3, 4)] == [378, 644, 910, 1176]
    assert [G.span_patches(n) for n in (1, 3, 4)] == [27, 65, 84]


def test_1176x910_gives_4_cols_by_3_rows():
    assert select_grid(1176, 910, 12) == (3, 4)


@pytest.mark.parametrize(
    ("size", "max_tiles", "grid"),
    [
        ((50, 40), 12, (1, 1)),  # smaller than a tile: the least upscaling is a single tile
        ((378, 378), 12, (1, 1)),
        ((644, 378), 12, (1, 2)),  # exactly two tiles wide
        ((650, 378), 12, (1, 3)),  # a little wider: upscale to three rather than shrink to two
        ((4000, 100), 12, (1, 12)),  # extreme panorama: every grid shrinks it, the widest shrinks it least
        ((100, 4000), 12, (12, 1)),
        ((5000, 5000), 12, (3, 3)),  # larger than every grid: least downscaling, ties to fewer tiles
        ((1176, 910), 4, (2, 2)),  # the budget is a call-time choice
        ((1176, 910), 1, (1, 1)),
    ],
)
def test_grid_choice(size, max_tiles, grid):
    assert select_grid(*size, max_tiles) == grid


@pytest.mark.parametrize("max_tiles", [1, 6, 12, 20])
def test_every_choice_is_within_budget_and_optimal(max_tiles):
    for width, height in [(31, 977), (1920, 1080), (3000, 400), (640, 480), (10000, 10000), (900, 17)]:
        rows, cols = select_grid(width, height, max_tiles)
        assert rows * cols <= max_tiles
        scale = min(G.span(rows) / height, G.span(cols) / width)
        others = [min(G.span(r) / height, G.span(c) / width) for r, c in candidate_grids(max_tiles)]
        if scale < 1:  # forced to shrink: nothing shrinks less
            assert scale == max(others) and all(s < 1 for s in others)
        else:  # nothing fits with less enlargement
            assert scale == min(s for s in others if s >= 1)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        select_grid(0, 10, 12)
    with pytest.raises(ValueError):
        select_grid(10, 10, 0)
    with pytest.raises(ValueError):
        TileGeometry(crop_patches=8, margin_patches=4)


def test_tile_boxes_cover_the_resized_image_with_overlaps():
    boxes = tile_boxes(3, 4)
    assert len(boxes) == 12
    assert boxes[0] == (0, 0, 378, 378)
    assert boxes[-1] == (1176 - 378, 910 - 378, 1176, 910)
    assert boxes[1][0] - boxes[0][0] == 266 and boxes[0][2] - boxes[1][0] == 112


def test_processor_cuts_thumbnail_then_tiles_of_the_resized_image():
    image = noise_image(1176, 910, seed=3)
    proc = PolyVLMImageProcessor()
    out = proc(image, return_tensors="np")
    assert out["pixel_values"].shape == (13, 3, 378, 378)
    assert out["image_grids"].tolist() == [[3, 4]]
    pixels = out["pixel_values"].transpose(0, 2, 3, 1)
    assert pixels.min() >= -1 and pixels.max() <= 1
    thumbnail = np.asarray(image.resize((378, 378), Image.Resampling.BICUBIC), dtype=np.float32) / 127.5 - 1
    np.testing.assert_allclose(pixels[0], thumbnail, atol=1e-5)
    # 1176x910 is already the 3x4 span, so tile (row 1, col 2) is a plain crop of the original pixels
    left, top, right, bottom = tile_boxes(3, 4)[1 * 4 + 2]
    expected = np.asarray(image, dtype=np.float32)[top:bottom, left:right] / 127.5 - 1
    np.testing.assert_allclose(pixels[1 + 6], expected, atol=1e-5)


def test_processor_batches_images_of_any_size_and_mode():
    proc = PolyVLMImageProcessor()
    gray = noise_image(30, 20).convert("L")
    rgba = noise_image(2000, 300).convert("RGBA")
    array = np.asarray(noise_image(400, 900))
    out = proc([[gray, rgba], [array]], max_tiles=6)
    grids = out["image_grids"].tolist()
    assert grids[0] == [1, 1]
    assert out["pixel_values"].shape[0] == sum(1 + r * c for r, c in grids)
    assert all(r * c <= 6 for r, c in grids)


def test_image_processor_round_trips_through_auto(tmp_path):
    from transformers import AutoImageProcessor

    import polyvlm.model.auto  # noqa: F401

    PolyVLMImageProcessor(max_tiles=7).save_pretrained(tmp_path)
    loaded = AutoImageProcessor.from_pretrained(tmp_path)
    assert isinstance(loaded, PolyVLMImageProcessor) and loaded.max_tiles == 7

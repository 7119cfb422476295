"""Tiling: grid choice, tile boxes, the thumbnail and tiles the image processor cuts."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from model_inputs import noise_image

from polyvlm.model.image_processing import PolyVLMImageProcessor
from polyvlm.model.pixel_budget import budget_size
from polyvlm.model.tiling import DEFAULT_GEOMETRY as G
from polyvlm.model.tiling import TileGeometry, select_grid, tile_boxes


def test_geometry_of_siglip_so400m_tiles():
    assert (G.crop_size, G.stride, G.overlap) == (378, 266, 112)
    assert [G.span(n) for n in (1, 2, 3, 4)] == [378, 644, 910, 1176]
    assert [G.span_patches(n) for n in (1, 3, 4)] == [27, 65, 84]


def algorithm_1(width: int, height: int, max_tiles: int) -> tuple[int, int]:
    """The paper's Algorithm 1, written out independently with exact fractions.

    Scale of (r, c) = min(r*266 / (h - 112), c*266 / (w - 112)) (a side of exactly 112 px: unbounded);
    all < 1: the largest; else the least >= 1; ties to fewer tiles, then fewer rows.
    """
    grids = sorted(
        [(r, c) for r in range(1, max_tiles + 1) for c in range(1, max_tiles + 1) if r * c <= max_tiles],
        key=lambda g: (g[0] * g[1], g[0]),
    )

    def scale(side: int, tiles: int) -> Fraction:
        return Fraction(10**9) if side == 112 else Fraction(tiles * 266, side - 112)

    scales = [min(scale(height, r), scale(width, c)) for r, c in grids]
    if all(s < 1 for s in scales):
        best = max(range(len(grids)), key=lambda i: (scales[i], -i))
    else:
        best = min((i for i in range(len(grids)) if scales[i] >= 1), key=lambda i: (scales[i], i))
    return grids[best]


def test_1176x910_gives_4_cols_by_3_rows():
    assert select_grid(1176, 910, 12) == (3, 4)


def test_the_margins_come_off_before_the_grid_is_chosen():
    # scoring (r*266 + 112) / h instead would give 1 x 7 here
    assert select_grid(1883, 416, 12) == (2, 6) == algorithm_1(1883, 416, 12)


@pytest.mark.parametrize(
    ("size", "max_tiles", "grid"),
    [
        ((378, 378), 12, (1, 1)),
        ((644, 378), 12, (1, 2)),  # exactly two tiles wide
        ((650, 378), 12, (1, 3)),  # a little wider: upscale to three rather than shrink to two
        ((4000, 100), 12, (1, 1)),  # narrower than the margins: every row scale is negative, 1 row wins
        ((4000, 200), 12, (1, 12)),  # extreme panorama: every grid shrinks it, the widest shrinks it least
        ((5000, 5000), 12, (3, 3)),  # larger than every grid: least downscaling, ties to fewer tiles
        ((1176, 910), 4, (2, 2)),  # the budget is a call-time choice
        ((1176, 910), 1, (1, 1)),
    ],
)
def test_grid_choice(size, max_tiles, grid):
    assert select_grid(*size, max_tiles) == grid == algorithm_1(*size, max_tiles)


def test_grid_choice_equals_algorithm_1_on_a_sweep_of_sizes():
    rng = np.random.default_rng(0)
    sizes = [(int(w), int(h)) for w, h in rng.integers(1, 4000, (3000, 2))]
    sizes += [(w, h) for w in range(100, 2000, 97) for h in range(100, 2000, 89)]  # regular grid
    sizes += [
        (G.span(c) + d, G.span(r)) for r in range(1, 5) for c in range(1, 5) for d in (-1, 0, 1)
    ]  # ties
    for max_tiles in (1, 6, 12):
        wrong = [(w, h) for w, h in sizes if select_grid(w, h, max_tiles) != algorithm_1(w, h, max_tiles)]
        assert not wrong, f"max_tiles={max_tiles}: {wrong[:5]}"


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        select_grid(0, 10, 12)
    with pytest.raises(ValueError):
        select_grid(10, 10, 0)
    with pytest.raises(ValueError):
        TileGeometry(crop_patches=8, margin_patches=4)
    with pytest.raises(ValueError, match="aspect ratio"):
        budget_size(4020, 20)


def test_the_pixel_budget_resizes_to_whole_patches_before_tiling():
    assert budget_size(1176, 910) == (
        1134,
        868,
    )  # 1,070,160 px is over 1,003,520: shrunk, then floored to 14s
    assert budget_size(640, 480) == (644, 476)  # within the budget: only rounded to 14s
    assert budget_size(30, 20) == (70, 56)  # under 56*56 px: enlarged (x2.29), then ceiled to 14s
    proc = PolyVLMImageProcessor()
    assert proc.grid_for(1176, 910) == select_grid(1134, 868, 12) == (3, 4)


def test_tile_boxes_cover_the_resized_image_with_overlaps():
    boxes = tile_boxes(3, 4)
    assert len(boxes) == 12
    assert boxes[0] == (0, 0, 378, 378)
    assert boxes[-1] == (1176 - 378, 910 - 378, 1176, 910)
    assert boxes[1][0] - boxes[0][0] == 266 and boxes[0][2] - boxes[1][0] == 112


def test_processor_cuts_thumbnail_then_tiles_of_the_resized_image():
    # 910x644 is whole patches within the pixel budget and exactly the 2x3 span, so no resize happens
    image = noise_image(910, 644, seed=3)
    proc = PolyVLMImageProcessor()
    out = proc(image, return_tensors="np")
    assert out["pixel_values"].shape == (7, 3, 378, 378)
    assert out["image_grids"].tolist() == [[2, 3]]
    pixels = out["pixel_values"].transpose(0, 2, 3, 1)
    assert pixels.min() >= -1 and pixels.max() <= 1
    # the thumbnail: the reference's float resize (bicubic, antialiased, of pixels / 255), clipped
    floats = torch.from_numpy(np.asarray(image)).permute(2, 0, 1)[None].float() / 255
    resized = torch.nn.functional.interpolate(floats, size=(378, 378), mode="bicubic", antialias=True)
    thumbnail = resized[0].clamp(0, 1).permute(1, 2, 0).numpy() * 2 - 1
    np.testing.assert_allclose(pixels[0], thumbnail, atol=1e-5)
    # so tile (row 1, col 2) is a plain crop of the original pixels
    left, top, right, bottom = tile_boxes(2, 3)[1 * 3 + 2]
    expected = np.asarray(image, dtype=np.float32)[top:bottom, left:right] / 127.5 - 1
    np.testing.assert_allclose(pixels[1 + 5], expected, atol=1e-5)


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

"""The token layout of an image and its count: formula, processor output and model features agree."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from model_inputs import noise_image

from polyvlm.model.pixel_budget import budget_size
from polyvlm.model.token_count import (
    grid_for_image_size,
    image_feature_count,
    image_token_count,
    region_grids,
    tokens_for_image_size,
)

SIZES = [(1176, 910), (50, 40), (378, 378), (379, 377), (4000, 100), (100, 4000), (2048, 1536), (1, 1)]


def reference_token_count(width: int, height: int, max_crops: int = 12) -> int:
    """The reference's get_n_image_patches, written out again: smart_resize, tiling, crop windows."""
    patch, crop_patches, margin, pool = 14, 27, 4, 2
    factor, min_pixels, max_pixels = patch, 56 * 56, 28 * 28 * 1280
    h, w = round(height / factor) * factor, round(width / factor) * factor
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = max(factor, math.floor(height / beta / factor) * factor)
        w = max(factor, math.floor(width / beta / factor) * factor)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h, w = math.ceil(height * beta / factor) * factor, math.ceil(width * beta / factor) * factor
    window = crop_patches - 2 * margin  # 19 patches, 266 px
    tilings = sorted(
        [(i, j) for i in range(1, max_crops + 1) for j in range(1, max_crops + 1) if i * j <= max_crops],
        key=lambda t: (t[0] * t[1], t[0]),
    )
    size = np.array([h - 2 * margin * patch, w - 2 * margin * patch], dtype=np.float32)
    with np.errstate(divide="ignore"):
        scale = (np.array(tilings, dtype=np.float32) * (window * patch) / size).min(axis=1)
    pick = np.argmax(scale) if np.all(scale < 1) else np.argmin(np.where(scale < 1, 1e10, scale))
    rows, cols = tilings[pick]

    def patches(n: int) -> int:
        if n == 1:
            return (crop_patches + pool - 1) // pool * pool
        edge = (window + margin + pool - 1) // pool * pool
        return 2 * edge + (n - 2) * ((window + pool - 1) // pool * pool)

    tiles = (patches(cols) // pool + 1) * (patches(rows) // pool) + 2
    thumbnail = (14 + 1) * 14 + 2
    return tiles + thumbnail


def test_formula_for_the_reference_image():
    assert budget_size(1176, 910) == (1134, 868) and grid_for_image_size(1176, 910) == (3, 4)
    assert region_grids(3, 4) == [(14, 14), (34, 44)]  # 12+10+12 pooled rows, 12+10+10+12 pooled columns
    assert (
        image_token_count(3, 4) == (14 * 15 + 2) + (34 * 45 + 2) == 1744 == tokens_for_image_size(1176, 910)
    )
    assert image_token_count(3, 4, pool=1) == (27 * 28 + 2) + (65 * 85 + 2) == 6285
    assert image_feature_count(3, 4) == 14 * 14 + 34 * 44


def test_token_count_equals_the_reference_formula_for_every_size():
    rng = np.random.default_rng(0)
    sizes = [(int(w), int(h)) for w, h in rng.integers(1, 6000, (4000, 2)) if max(w, h) / min(w, h) <= 200]
    sizes += [(w, h) for w in range(20, 2400, 61) for h in range(20, 2400, 67)]
    assert len(sizes) > 5000
    for max_tiles in (12, 4):
        wrong = [
            (w, h)
            for w, h in sizes
            if tokens_for_image_size(w, h, max_tiles) != reference_token_count(w, h, max_tiles)
        ]
        assert not wrong, f"max_tiles={max_tiles}: {wrong[:5]}"


def test_pooling_cuts_tokens_about_four_times_at_twelve_tiles():
    for width, height in [(1176, 910), (1920, 1080), (3000, 3000)]:
        ratio = tokens_for_image_size(width, height, 12, pool=1) / tokens_for_image_size(width, height, 12)
        assert 3.4 < ratio < 4.1


def test_without_pooling_each_image_patch_is_kept_once():
    # 12 tiles of 27x27 patches hold 8748 patches; kept once each, the 3x4 layout holds 65x84
    assert image_feature_count(3, 4, pool=1) - 27 * 27 == 65 * 84 < 12 * 27 * 27


@pytest.mark.parametrize("size", SIZES)
def test_processor_writes_the_layout(processor, tokenizer, size):
    inputs = processor(text="前<image>後", images=[noise_image(*size)], return_tensors="pt")
    ids = inputs["input_ids"][0].tolist()
    rows, cols = grid_for_image_size(*size, 12)
    assert inputs["image_grids"].tolist() == [[rows, cols]]
    assert inputs["pixel_values"].shape == (1 + rows * cols, 3, 378, 378)
    vocab = tokenizer.get_vocab()
    start, end, col, patch = (vocab[t] for t in ("<im_start>", "<im_end>", "<im_col>", "<im_patch>"))
    first, last = ids.index(start), len(ids) - 1 - ids[::-1].index(end)
    assert last - first + 1 == image_token_count(rows, cols) == processor.tokens_per_image(*size)
    assert ids.count(patch) == image_feature_count(rows, cols)
    (h0, w0), (h, w) = region_grids(rows, cols)
    assert ids.count(col) == h0 + h and ids.count(start) == ids.count(end) == 2
    # row structure: w0 patches then <im_col> in the thumbnail, w patches then <im_col> in the tiles
    thumb = ids[first + 1 : first + 1 + h0 * (w0 + 1)]
    assert thumb[w0] == col and set(thumb[:w0]) == {patch}
    assert ids[first + 1 + h0 * (w0 + 1)] == end


@pytest.mark.parametrize("size", SIZES)
def test_model_gives_one_feature_per_patch_token(model, processor, size):
    inputs = processor(text="<image>", images=[noise_image(*size, seed=1)])
    with torch.no_grad():
        features = model.image_features(inputs["pixel_values"], inputs["image_grids"])
    patch = processor.tokenizer.convert_tokens_to_ids("<im_patch>")
    assert features.shape == (int((inputs["input_ids"] == patch).sum()), model.config.text_config.hidden_size)
    assert torch.isfinite(features).all()


def test_max_tiles_is_chosen_at_call_time(processor):
    image = noise_image(1176, 910)
    small = processor(text="<image>", images=[image], max_tiles=2)
    large = processor(text="<image>", images=[image])
    assert small["image_grids"].tolist() == [[1, 2]] and large["image_grids"].tolist() == [[3, 4]]
    assert small["input_ids"].shape[1] < large["input_ids"].shape[1]


def test_placeholder_and_image_counts_must_match(processor):
    with pytest.raises(ValueError, match="2 images but 1"):
        processor(text="<image>", images=[noise_image(10, 10), noise_image(10, 10)])
    with pytest.raises(ValueError, match="no images"):
        processor(text="<image>")

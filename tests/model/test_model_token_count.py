"""The token layout of an image and its count: formula, processor output and model features agree."""

from __future__ import annotations

import pytest
import torch

from conftest import noise_image
from polyvlm.model.tiling import select_grid
from polyvlm.model.token_count import (
    image_feature_count,
    image_token_count,
    region_grids,
    tokens_for_image_size,
)

SIZES = [(1176, 910), (50, 40), (378, 378), (379, 377), (4000, 100), (100, 4000), (2048, 1536), (1, 1)]


def test_formula_for_the_reference_image():
    assert region_grids(3, 4) == [(14, 14), (33, 42)]  # ceil(27/2); ceil((3*19+8)/2) x ceil((4*19+8)/2)
    assert image_token_count(3, 4) == (14 * 15 + 2) + (33 * 43 + 2) == 1633
    assert image_token_count(3, 4, pool=1) == (27 * 28 + 2) + (65 * 85 + 2) == 6285
    assert image_feature_count(3, 4) == 14 * 14 + 33 * 42


def test_pooling_cuts_tokens_about_four_times_at_twelve_tiles():
    for width, height in [(1176, 910), (1920, 1080), (3000, 3000)]:
        ratio = tokens_for_image_size(width, height, 12, pool=1) / tokens_for_image_size(width, height, 12)
        assert 3.5 < ratio < 4.1


def test_overlap_margins_are_not_counted_twice():
    # 12 tiles of 27x27 patches hold 8748 patches; the stitched 65x84 grid holds each image patch once
    assert image_feature_count(3, 4, pool=1) - 27 * 27 == 65 * 84 < 12 * 27 * 27


@pytest.mark.parametrize("size", SIZES)
def test_processor_writes_the_layout(processor, tokenizer, size):
    inputs = processor(text="前<image>後", images=[noise_image(*size)], return_tensors="pt")
    ids = inputs["input_ids"][0].tolist()
    rows, cols = select_grid(*size, 12)
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

"""Connector pieces: kept bands of each tile, per-tile pooling windows (zero padding, no mask),
multi-head mean-query attention pooling, the padding embedding, and which ViT layers feed it."""

from __future__ import annotations

import math

import pytest
import torch

from polyvlm.model.connector import AttentionPool, AttentionPoolConnector, MLPConnector, pooling_windows
from polyvlm.model.tile_layout import assemble_tiles, kept_range, region_side
from polyvlm.model.tiling import DEFAULT_GEOMETRY as G
from polyvlm.model.tiling import TileGeometry


def test_each_tile_keeps_the_reference_band_of_pooled_positions():
    # 14 pooled positions a side; the first tile gives up its inner margin (2 cells), the last its
    # outer side is kept, a middle one keeps ceil(19 / 2) = 10 cells after its 2-cell margin
    assert [kept_range(i, 3, G, 2) for i in range(3)] == [(0, 12), (2, 12), (2, 14)]
    assert kept_range(0, 1, G, 2) == (0, 14)
    assert [region_side(n, G, 2) for n in (1, 2, 3, 4)] == [14, 24, 34, 44]
    assert [kept_range(i, 3, G, 1) for i in range(3)] == [(0, 23), (4, 23), (4, 27)]
    with pytest.raises(ValueError, match="dividing"):
        kept_range(0, 2, TileGeometry(margin_patches=3), 2)


def test_without_pooling_the_kept_bands_restore_the_image_patch_grid():
    rows, cols = 3, 4
    h, w = G.span_patches(rows), G.span_patches(cols)
    # every patch of the resized image labelled by its (y, x); tiles cut at a 19-patch stride as the processor does
    image = torch.stack(torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij"), dim=-1)
    s, p = G.stride_patches, G.crop_patches
    tiles = torch.stack(
        [image[r * s : r * s + p, c * s : c * s + p] for r in range(rows) for c in range(cols)]
    )
    assert torch.equal(assemble_tiles(tiles, rows, cols, G, pool=1), image)  # integer labels


def test_pooled_bands_come_from_their_own_tile_in_row_major_order():
    rows, cols, t = 2, 3, 14
    tiles = torch.arange(rows * cols).view(-1, 1, 1, 1).expand(-1, t, t, 1)  # tile id as the feature
    grid = assemble_tiles(tiles, rows, cols, G, pool=2)[..., 0]
    assert grid.shape == (24, 34)
    assert grid[:12, :12].eq(0).all() and grid[:12, 12:22].eq(1).all() and grid[:12, 22:].eq(2).all()
    assert grid[12:, :12].eq(3).all() and grid[12:, 22:].eq(5).all()


def test_odd_crops_are_zero_padded_bottom_right_without_a_mask():
    crops = torch.randn(2, 27, 27, 5)
    windows = pooling_windows(crops, pool=2)
    assert windows.shape == (2 * 14 * 14, 4, 5)
    last = windows[14 * 14 - 1]  # bottom-right window of the first crop: one real patch, three zeros
    assert torch.equal(last[0], crops[0, 26, 26]) and not last[1:].any()  # copies, no arithmetic
    assert torch.equal(windows[14 * 14 + 1, :, 0], crops[1, :2, 2:4, 0].reshape(4))  # second crop, row-major


def test_attention_pool_is_multi_head_mean_query_attention():
    torch.manual_seed(0)
    pool = AttentionPool(in_dim=8, num_heads=2, head_dim=3, out_dim=5)
    assert pool.q_proj.bias is not None and pool.o_proj.out_features == 5
    windows = torch.randn(4, 4, 8)
    # by hand: one head at a time
    q = pool.q_proj(windows.mean(1)).view(4, 2, 3)
    k, v = pool.k_proj(windows).view(4, 4, 2, 3), pool.v_proj(windows).view(4, 4, 2, 3)
    heads = [
        torch.softmax((k[:, :, h] @ q[:, h, :, None]).squeeze(-1) / math.sqrt(3), -1)[:, None] @ v[:, :, h]
        for h in range(2)
    ]
    expected = pool.o_proj(torch.cat([x.squeeze(1) for x in heads], dim=-1))
    # fp32, a few dozen products of unit-sized terms: 1e-6 is rounding, a wrong head split is O(1)
    torch.testing.assert_close(pool(windows), expected, atol=1e-6, rtol=1e-5)
    # identical patches: whatever the attention weights, the output is o(v(x))
    same = windows[:1, :1].expand(1, 4, 8)
    torch.testing.assert_close(pool(same), pool.o_proj(pool.v_proj(same[:, 0])), atol=1e-6, rtol=1e-5)
    # zero padding is not masked: a window of one patch and three zeros is not that patch alone
    padded = torch.cat([windows[:1, :1], torch.zeros(1, 3, 8)], dim=1)
    assert not torch.allclose(pool(padded), pool.o_proj(pool.v_proj(windows[0, :1])), atol=1e-3)


def test_connector_dimensions_follow_the_reference():
    d_v, d_l, heads, head_dim, hidden = 12, 20, 3, 4, 30
    c = AttentionPoolConnector(d_v, num_layers=2, text_dim=d_l, num_heads=heads, head_dim=head_dim,
                               hidden_dim=hidden)  # fmt: skip
    a, s = c.attention_pool, c.projection
    assert c.pad_embed.shape == (2, 2 * d_v)
    for proj in (a.q_proj, a.k_proj, a.v_proj):
        assert (proj.in_features, proj.out_features) == (2 * d_v, heads * head_dim)
    assert (a.o_proj.in_features, a.o_proj.out_features) == (heads * head_dim, d_v)
    assert (s.w1.in_features, s.w1.out_features) == (d_v, hidden) == (s.w2.in_features, s.w2.out_features)
    assert (s.w3.in_features, s.w3.out_features) == (hidden, d_l)
    pooled = c.pool_crops(torch.randn(3, 27, 27, 2 * d_v), torch.tensor([False, False, True]))
    assert pooled.shape == (3, 14, 14, d_v)
    assert c.project(pooled.reshape(-1, d_v)).shape == (3 * 196, d_l)
    mlp = MLPConnector(d_v, num_layers=1, text_dim=d_l)
    crops = torch.randn(2, 27, 27, d_v)
    assert mlp.pool_crops(crops, torch.tensor([False, True])) is crops
    assert mlp.project(crops.reshape(-1, d_v)).shape == (2 * 729, d_l)


def test_the_padding_embedding_reaches_only_the_last_tile_of_each_image(model, processor):
    from model_inputs import noise_image

    seen = []
    original = model.connector.pool_crops
    model.connector.pool_crops = lambda crops, flags: seen.append(flags) or original(crops, flags)
    try:
        inputs = processor(
            text="<image><image>", images=[noise_image(700, 300), noise_image(200, 200)], max_tiles=3
        )
        with torch.no_grad():
            model.image_features(inputs["pixel_values"], inputs["image_grids"])
    finally:
        del model.connector.pool_crops
    (r1, c1), (r2, c2) = inputs["image_grids"].tolist()
    flagged = seen[0].nonzero().flatten().tolist()
    assert flagged == [r1 * c1, r1 * c1 + 1 + r2 * c2]  # [thumbnail, tiles...] per image: its last tile


def test_feature_layers_are_third_and_ninth_to_last_encoder_layers(model, processor):
    """hidden_states[0] is the embedding output, so [-3] / [-9] are encoder layers n-3 / n-9 (0-based)."""
    from model_inputs import noise_image

    assert model.config.vision_feature_layers == [-3, -9]
    layers = model.vision_tower.encoder.layers
    n = len(layers)
    captured, seen = {}, []
    hooks = [
        layers[n - 3].register_forward_hook(lambda m, i, o: captured.__setitem__("third", o)),
        layers[n - 9].register_forward_hook(lambda m, i, o: captured.__setitem__("ninth", o)),
    ]
    original = model.connector.pool_crops
    model.connector.pool_crops = lambda crops, flags: seen.append(crops) or original(crops, flags)
    inputs = processor(text="<image>", images=[noise_image(300, 200)])
    try:
        with torch.no_grad():
            model.image_features(inputs["pixel_values"], inputs["image_grids"])
    finally:
        for hook in hooks:
            hook.remove()
        del model.connector.pool_crops
    third, ninth = (
        captured[k][0] if isinstance(captured[k], tuple) else captured[k] for k in ("third", "ninth")
    )
    thumbnail = seen[0][0]  # the first crop: the thumbnail's 27x27 grid
    expected = torch.cat([third[0], ninth[0]], dim=-1).view(27, 27, -1)
    assert torch.equal(thumbnail, expected)  # the same layer outputs copied by cat/view: no arithmetic

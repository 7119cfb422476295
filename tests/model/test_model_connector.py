"""Connector pieces: stitching, pooling windows with odd-grid padding, attention pooling, layer choice."""

from __future__ import annotations

import torch

from polyvlm.model.connector import AttentionPool, AttentionPoolConnector, MLPConnector, pooling_windows
from polyvlm.model.stitching import stitch_tiles
from polyvlm.model.tiling import DEFAULT_GEOMETRY as G


def test_stitching_restores_the_image_patch_grid():
    rows, cols = 3, 4
    h, w = G.span_patches(rows), G.span_patches(cols)
    # every patch of the resized image labelled by its (y, x); tiles cut at a 19-patch stride as the processor does
    image = torch.stack(torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij"), dim=-1).float()
    s, p = G.stride_patches, G.crop_patches
    tiles = torch.stack(
        [image[r * s : r * s + p, c * s : c * s + p] for r in range(rows) for c in range(cols)]
    )
    assert torch.equal(stitch_tiles(tiles, rows, cols, G.margin_patches), image)


def test_stitching_keeps_each_patch_from_the_tile_where_it_is_most_central():
    rows, cols, p, m = 1, 2, G.crop_patches, G.margin_patches
    tiles = torch.stack([torch.full((p, p, 1), 0.0), torch.full((p, p, 1), 1.0)])  # tile id as the feature
    grid = stitch_tiles(tiles, rows, cols, m)[0, :, 0]
    boundary = p - m  # 23: the left tile keeps patches 0..22, the right tile the rest
    assert grid.shape[0] == G.span_patches(2) and grid[:boundary].eq(0).all() and grid[boundary:].eq(1).all()


def test_odd_grids_are_padded_bottom_right_and_masked():
    windows, mask = pooling_windows(torch.randn(27, 27, 5), pool=2)
    assert windows.shape == (14 * 14, 4, 5) and mask.shape == (196, 4)
    valid = mask.sum(1).view(14, 14)
    assert valid[:13, :13].eq(4).all()
    assert valid[13, :13].eq(2).all() and valid[:13, 13].eq(2).all() and valid[13, 13] == 1
    assert windows[~mask].abs().sum() == 0
    assert mask[-1].tolist() == [True, False, False, False]  # the corner window keeps its top-left patch


def test_windows_are_row_major_2x2_neighbourhoods():
    grid = torch.arange(4 * 6).float().view(4, 6, 1)
    windows, _ = pooling_windows(grid, pool=2)
    assert windows[1, :, 0].tolist() == [2, 3, 8, 9]  # second window of the first row
    assert windows[3, :, 0].tolist() == [12, 13, 18, 19]  # first window of the second row


def test_attention_pool_ignores_padding_and_weights_sum_to_one():
    torch.manual_seed(0)
    pool = AttentionPool(8, 4)
    windows = torch.randn(3, 4, 8)
    mask = torch.tensor([[True] * 4, [True, True, False, False], [True, False, False, False]])
    garbage = windows.clone()
    garbage[~mask] = 1e3
    assert torch.allclose(pool(windows, mask), pool(garbage, mask))
    # identical patches: whatever the attention weights, the output is o(v(x))
    same = windows[:1, :1].expand(1, 4, 8)
    expected = pool.o_proj(pool.v_proj(same[:, 0]))
    assert torch.allclose(pool(same, torch.ones(1, 4, dtype=torch.bool)), expected, atol=1e-6)
    # a window with one valid patch returns that patch's o(v(x)) exactly
    assert torch.allclose(pool(windows[2:], mask[2:]), pool.o_proj(pool.v_proj(windows[2, 0:1])), atol=1e-6)


def test_connector_dimensions_follow_the_design():
    d_v, d_l = 12, 20
    c = AttentionPoolConnector(d_v, num_layers=2, text_dim=d_l)
    a, s = c.attention_pool, c.projection
    assert (a.q_proj.in_features, a.q_proj.out_features) == (2 * d_v, d_v)
    assert (a.k_proj.in_features, a.k_proj.out_features) == (2 * d_v, d_v)
    assert (a.v_proj.in_features, a.v_proj.out_features) == (2 * d_v, 2 * d_v)
    assert (a.o_proj.in_features, a.o_proj.out_features) == (2 * d_v, d_v)
    assert (s.w1.in_features, s.w1.out_features) == (d_v, 3 * d_l) == (s.w2.in_features, s.w2.out_features)
    assert (s.w3.in_features, s.w3.out_features) == (3 * d_l, d_l)
    out = c([torch.randn(27, 27, 2 * d_v), torch.randn(65, 84, 2 * d_v)])
    assert out.shape == (14 * 14 + 33 * 42, d_l)
    mlp = MLPConnector(d_v, num_layers=1, text_dim=d_l)
    assert mlp([torch.randn(27, 27, d_v)]).shape == (27 * 27, d_l)


def test_feature_layers_are_third_and_ninth_to_last_encoder_layers(model, processor):
    """hidden_states[0] is the embedding output, so [-3] / [-9] are encoder layers n-3 / n-9 (0-based)."""
    from conftest import noise_image

    assert model.config.vision_feature_layers == [-3, -9]
    layers = model.vision_tower.encoder.layers
    n = len(layers)
    captured, seen = {}, []
    hooks = [
        layers[n - 3].register_forward_hook(lambda m, i, o: captured.__setitem__("third", o)),
        layers[n - 9].register_forward_hook(lambda m, i, o: captured.__setitem__("ninth", o)),
        model.connector.register_forward_hook(lambda m, args, o: seen.append(args[0])),
    ]
    inputs = processor(text="<image>", images=[noise_image(300, 200)])
    try:
        with torch.no_grad():
            model.image_features(inputs["pixel_values"], inputs["image_grids"])
    finally:
        for hook in hooks:
            hook.remove()
    third, ninth = (
        captured[k][0] if isinstance(captured[k], tuple) else captured[k] for k in ("third", "ninth")
    )
    thumbnail = seen[0][0]  # the connector's first region: the thumbnail's 27x27 grid
    expected = torch.cat([third[0], ninth[0]], dim=-1).view(27, 27, -1)
    assert torch.equal(thumbnail, expected)

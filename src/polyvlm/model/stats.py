"""Sizes and costs of a PolyVLM from its config alone (no weights): parameters, visual tokens, FLOPs, KV cache.

The model is built on torch's meta device, so parameters are counted without allocating them.
FLOPs count multiply-adds as 2 and cover the LM prefill of one prompt of N tokens (visual + text):
``2 * N * (transformer-block params) + 2 * layers * heads * head_dim * N^2`` (causal attention:
QK^T and AV over half the N x N matrix each) ``+ 2 * d * vocab`` (the head, last position only).
The KV cache is ``2 (K, V) * layers * kv_heads * head_dim * N * 2 bytes`` in fp16.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from polyvlm.model.configuration import PolyVLMConfig
from polyvlm.model.modeling import PolyVLMForConditionalGeneration
from polyvlm.model.pixel_budget import budget_size
from polyvlm.model.tiling import select_grid
from polyvlm.model.token_count import image_token_count


@dataclass
class Costs:
    """LM cost of one prompt with a given number of tokens."""

    tokens: int
    prefill_flops: float
    kv_cache_bytes: int


@dataclass
class ModelStats:
    """Parameters per module, the image's tiling and its cost with and without 2x2 pooling.

    ``image_tokens_unpooled`` is the same layout (thumbnail, then each tile's kept band) at one token
    per patch: what the LM would read without the 2x2 pooling.
    """

    params: dict[str, int]
    image_size: tuple[int, int]
    resized_to: tuple[int, int]
    max_tiles: int
    grid: tuple[int, int]
    image_tokens_pooled: int
    image_tokens_unpooled: int
    vision_flops: float
    pooled: Costs
    unpooled: Costs

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return asdict(self)


def count_params(config: PolyVLMConfig) -> dict[str, int]:
    """Parameters of the vision tower, connector, LM embeddings, LM blocks and LM head, plus the total."""
    with torch.device("meta"):
        model = PolyVLMForConditionalGeneration(config)
    lm = model.language_model
    embed = lm.get_input_embeddings().weight.numel()
    head = lm.get_output_embeddings().weight.numel()
    counts = {
        "vision_tower": sum(p.numel() for p in model.vision_tower.parameters()),
        "connector": sum(p.numel() for p in model.connector.parameters()),
        "lm_embeddings": embed,
        "lm_blocks": sum(p.numel() for p in lm.parameters()) - embed - head,
        "lm_head": head,
    }
    counts["total"] = sum(counts.values())
    return counts


def lm_costs(config: PolyVLMConfig, params: dict[str, int], tokens: int) -> Costs:
    """Prefill FLOPs and fp16 KV-cache bytes of the LM for a prompt of ``tokens`` tokens."""
    text = config.text_config
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    kv_heads = getattr(text, "num_key_value_heads", None) or text.num_attention_heads
    layers = text.num_hidden_layers
    attention = 2 * layers * text.num_attention_heads * head_dim * tokens**2
    flops = 2 * tokens * params["lm_blocks"] + attention + 2 * text.hidden_size * text.vocab_size
    return Costs(
        tokens=tokens,
        prefill_flops=float(flops),
        kv_cache_bytes=2 * layers * kv_heads * head_dim * tokens * 2,
    )


def vision_flops(config: PolyVLMConfig, params: dict[str, int], crops: int) -> float:
    """FLOPs of the vision tower over ``crops`` crops (the same with or without pooling)."""
    vision = config.vision_config
    patches = config.tile_geometry.crop_patches**2
    attention = 4 * vision.num_hidden_layers * vision.hidden_size * patches**2
    return float(crops * (2 * patches * params["vision_tower"] + attention))


def model_stats(
    config: PolyVLMConfig, width: int = 1176, height: int = 910, max_tiles: int = 12, text_tokens: int = 32
) -> ModelStats:
    """Everything ``polyvlm model stats`` prints, for one image of ``width`` x ``height`` plus a text prompt."""
    params = count_params(config)
    geometry = config.tile_geometry
    resized = budget_size(width, height, geometry.patch_size)  # the processor's default pixel budget
    rows, cols = select_grid(*resized, max_tiles, geometry)
    pooled = image_token_count(rows, cols, geometry, pool=2)
    unpooled = image_token_count(rows, cols, geometry, pool=1)
    return ModelStats(
        params=params,
        image_size=(width, height),
        resized_to=resized,
        max_tiles=max_tiles,
        grid=(rows, cols),
        image_tokens_pooled=pooled,
        image_tokens_unpooled=unpooled,
        vision_flops=vision_flops(config, params, 1 + rows * cols),
        pooled=lm_costs(config, params, pooled + text_tokens),
        unpooled=lm_costs(config, params, unpooled + text_tokens),
    )


def format_stats(stats: ModelStats) -> str:
    """The stats as a plain-text table."""
    lines = ["parameters"]
    lines += [f"  {name:<14}{count / 1e6:>12,.1f} M" for name, count in stats.params.items()]
    (w, h), (rw, rh), (rows, cols) = stats.image_size, stats.resized_to, stats.grid
    lines += [
        "",
        f"image {w}x{h} (pixel budget: {rw}x{rh}), max_tiles {stats.max_tiles}: "
        f"{rows} rows x {cols} cols + thumbnail = {1 + rows * cols} crops",
        f"  vision tower           {stats.vision_flops / 1e12:>10.2f} TFLOPs (either way)",
        "",
        f"  {'':<22}{'2x2 pooling':>14}{'no pooling':>14}{'ratio':>8}",
    ]
    rows_out = [
        ("image tokens", stats.image_tokens_pooled, stats.image_tokens_unpooled, "{:,}"),
        ("prompt tokens", stats.pooled.tokens, stats.unpooled.tokens, "{:,}"),
        (
            "LM prefill TFLOPs",
            stats.pooled.prefill_flops / 1e12,
            stats.unpooled.prefill_flops / 1e12,
            "{:.2f}",
        ),
        (
            "KV cache fp16 MiB",
            stats.pooled.kv_cache_bytes / 2**20,
            stats.unpooled.kv_cache_bytes / 2**20,
            "{:.1f}",
        ),
    ]
    for name, a, b, fmt in rows_out:
        lines.append(f"  {name:<22}{fmt.format(a):>14}{fmt.format(b):>14}{b / a:>7.2f}x")
    return "\n".join(lines)

"""jina-vlm tensors -> PolyVLM tensors and config: the one place that knows both layouts' names.

- vision: fused ``qkv_w`` (3*H*d_h, d) splits into q, k, v (in that order) with ``q_b``/``k_b``/``v_b``
  as their biases; a linear patch embedding (d, p*p*3, pixels ordered row, column, channel) becomes
  SigLIP's (d, 3, p, p) convolution; norms and MLP map one to one;
- connector: ``pooling.kv_w`` splits into k then v; ``projector.up`` holds [up; gate] (the reference
  computes ``act(gate) * up``) and becomes SwiGLU's w2 (up) and w1 (gate);
- language model: ``qkv_w`` splits into q (H*d_h), k and v (KV*d_h each); the q/k/v biases must be
  zero (Qwen3 has none); ``ffn.up`` = [up; gate]; ``embedding`` + ``new_embedding`` become one
  embedding table of vocab + extra rows; ``lm_head`` (vocab rows only) gets zero rows for the extra
  tokens (``convert_jina`` suppresses them in generation, as the reference's head cannot produce them).
"""

from __future__ import annotations

import torch

from polyvlm.model.configuration import PolyVLMConfig
from polyvlm.model.jina_layout import CONNECTOR, TEXT, VISION, ConversionError, JinaSizes

# Where the released tokenizer puts the image tokens, if SRC carries no tokenizer (assumed): the
# reference's EXTRA_TOKENS order (<im_patch>, <im_start>, <im_end>, <im_col>, <|image|>, <im_slice>)
# appended at the 151,936 embedding rows, which puts <|image|> at 151,940 as the released config has it.
ASSUMED_IMAGE_TOKEN_IDS = {
    "image_patch_token_id": 151936,
    "image_start_token_id": 151937,
    "image_end_token_id": 151938,
    "image_col_token_id": 151939,
}


def feature_layers(sizes: JinaSizes) -> list[int]:
    """The reference's ``vit_layers`` as indices into transformers' ``hidden_states``.

    The reference indexes a list of the n layer outputs followed by the post-layernorm output (the
    last layer's output again when ``post_lnorm`` is off), so entry p < n is layer p's output, which is
    ``hidden_states[p + 1]``; negative i is ``i + 1``.
    """
    n, layers = sizes.vision_layers, []
    for index in sizes.vit_layers:
        if not -(n + 1) <= index <= n:
            raise ConversionError(
                f"config.vision_config.vit_layers {list(sizes.vit_layers)}: {index} is not one of the {n} layers"
            )
        position = index % (n + 1)
        if position == n and sizes.post_lnorm:
            raise ConversionError(
                f"config.vision_config.vit_layers {list(sizes.vit_layers)} use the post-layernorm output"
            )
        layers.append(min(position, n - 1) + 1)
    return [p - (n + 1) for p in layers]  # negative, as PolyVLM's defaults are written


def polyvlm_config(sizes: JinaSizes, token_ids: dict[str, int]) -> PolyVLMConfig:
    """The PolyVLMConfig whose tensors the converted checkpoint fills."""
    vision = {
        "model_type": "siglip_vision_model",
        "hidden_size": sizes.vision_hidden,
        "intermediate_size": sizes.vision_ffn,
        "num_hidden_layers": sizes.vision_layers,
        "num_attention_heads": sizes.vision_heads,
        "image_size": sizes.image_size,
        "patch_size": sizes.patch_size,
        "layer_norm_eps": sizes.vision_eps,
        "hidden_act": sizes.vision_act,
        "vision_use_head": False,
    }
    text = {
        "model_type": "qwen3",
        "vocab_size": sizes.vocab_size + sizes.additional_vocab_size,
        "hidden_size": sizes.text_hidden,
        "intermediate_size": sizes.text_ffn,
        "num_hidden_layers": sizes.text_layers,
        "num_attention_heads": sizes.text_heads,
        "num_key_value_heads": sizes.text_kv_heads,
        "head_dim": sizes.text_head_dim,
        "rms_norm_eps": sizes.text_eps,
        "hidden_act": sizes.text_act,
        "max_position_embeddings": sizes.max_positions,
        "rope_parameters": {"rope_type": "default", "rope_theta": sizes.rope_theta},
        "tie_word_embeddings": False,
        "pad_token_id": 151643,
    }
    return PolyVLMConfig(
        vision_config=vision,
        text_config=text,
        connector="attention_pool",
        vision_feature_layers=feature_layers(sizes),
        pool_num_heads=sizes.pool_heads,
        pool_head_dim=sizes.pool_head_dim,
        projector_hidden_size=sizes.projector_hidden,
        **token_ids,
    )


def pad_embed(state: dict[str, torch.Tensor], sizes: JinaSizes) -> torch.Tensor:
    """PolyVLM's (2, width) rows: [added to all-padding crops, added to partly padded crops].

    "pad_and_partial_pad" has both; "pad_embed" adds its one row to all-padding crops only (PolyVLM
    has none); no padding embedding adds nothing: zero rows compute the same.
    """
    width = sizes.vision_hidden * len(sizes.vit_layers)
    embed = state[VISION + "patch_embed.proj.bias"].new_zeros(2, width)
    if sizes.pad_embed_type == "pad_and_partial_pad":
        embed = state[CONNECTOR + "pad_embed"]
    elif sizes.pad_embed_type == "pad_embed":
        embed[0] = state[CONNECTOR + "pad_embed"]
    return embed


def convert_state(state: dict[str, torch.Tensor], sizes: JinaSizes) -> dict[str, torch.Tensor]:
    """Reference tensors -> PolyVLM tensors (names of ``PolyVLMForConditionalGeneration.state_dict()``)."""
    out: dict[str, torch.Tensor] = {}
    tower = "vision_tower."
    # linear over pixels ordered (row, column, channel) -> (d, channel, row, column)
    p, d = sizes.patch_size, sizes.vision_hidden
    patch = state[VISION + "patch_embed.proj.weight"].view(d, p, p, 3).permute(0, 3, 1, 2)
    out[tower + "embeddings.patch_embedding.weight"] = patch
    out[tower + "embeddings.patch_embedding.bias"] = state[VISION + "patch_embed.proj.bias"]
    out[tower + "embeddings.position_embedding.weight"] = state[VISION + "pos_embed"]
    if sizes.post_lnorm:
        for part in ("weight", "bias"):
            out[tower + f"post_layernorm.{part}"] = state[VISION + f"post_lnorm.{part}"]
    else:  # the reference has none; SigLIP's is never read by PolyVLM (it takes hidden_states), so a neutral one
        out[tower + "post_layernorm.weight"] = torch.ones(d, dtype=patch.dtype)
        out[tower + "post_layernorm.bias"] = torch.zeros(d, dtype=patch.dtype)
    for i in range(sizes.vision_layers):
        src, dst = f"{VISION}layers.{i}.", f"{tower}encoder.layers.{i}."
        for name, chunk in zip("qkv", state[src + "attn.qkv_w.weight"].chunk(3), strict=True):
            out[dst + f"self_attn.{name}_proj.weight"] = chunk
            out[dst + f"self_attn.{name}_proj.bias"] = state[src + f"attn.{name}_b"]
        for part in ("weight", "bias"):
            out[dst + f"self_attn.out_proj.{part}"] = state[src + f"attn.out.{part}"]
            out[dst + f"layer_norm1.{part}"] = state[src + f"attn_lnorm.{part}"]
            out[dst + f"layer_norm2.{part}"] = state[src + f"ffn_lnorm.{part}"]
            out[dst + f"mlp.fc1.{part}"] = state[src + f"ffn.up.{part}"]
            out[dst + f"mlp.fc2.{part}"] = state[src + f"ffn.down.{part}"]
    pool = "connector.attention_pool."
    out["connector.pad_embed"] = pad_embed(state, sizes)
    k, v = state[CONNECTOR + "pooling.kv_w.weight"].chunk(2)
    out |= {
        pool + "q_proj.weight": state[CONNECTOR + "pooling.q_w.weight"],
        pool + "k_proj.weight": k,
        pool + "v_proj.weight": v,
        pool + "q_proj.bias": state[CONNECTOR + "pooling.q_b"],
        pool + "k_proj.bias": state[CONNECTOR + "pooling.k_b"],
        pool + "v_proj.bias": state[CONNECTOR + "pooling.v_b"],
        pool + "o_proj.weight": state[CONNECTOR + "pooling.out.weight"],
        pool + "o_proj.bias": state[CONNECTOR + "pooling.out.bias"],
    }
    up, gate = state[CONNECTOR + "projector.up.weight"].chunk(2)
    out |= {
        "connector.projection.w1.weight": gate,
        "connector.projection.w2.weight": up,
        "connector.projection.w3.weight": state[CONNECTOR + "projector.down.weight"],
    }
    lm = "language_model.model."
    embed = torch.cat([state[TEXT + "embedding.embedding"], state[TEXT + "embedding.new_embedding"]])
    out[lm + "embed_tokens.weight"] = embed
    out[lm + "norm.weight"] = state[TEXT + "ln_f.weight"]
    # tied: the reference's head is its embedding's first rows (not the extra ones)
    head = state[TEXT + "embedding.embedding"] if sizes.tie_word_embeddings else state["lm_head.weight"]
    out["language_model.lm_head.weight"] = torch.cat(
        [head, head.new_zeros(sizes.additional_vocab_size, head.shape[1])]
    )
    q_size, kv_size = sizes.text_heads * sizes.text_head_dim, sizes.text_kv_heads * sizes.text_head_dim
    for i in range(sizes.text_layers):
        src, dst = f"{TEXT}layers.{i}.", f"{lm}layers.{i}."
        biased = [b for b in ("q_b", "k_b", "v_b") if state[src + f"attn.{b}"].count_nonzero()]
        if biased:
            raise ConversionError(f"{src}attn.{biased[0]} is not zero: Qwen3 attention has no q/k/v biases")
        q, k, v = state[src + "attn.qkv_w.weight"].split([q_size, kv_size, kv_size])
        up, gate = state[src + "ffn.up.weight"].chunk(2)
        out |= {
            dst + "self_attn.q_proj.weight": q,
            dst + "self_attn.k_proj.weight": k,
            dst + "self_attn.v_proj.weight": v,
            dst + "self_attn.o_proj.weight": state[src + "attn.out.weight"],
            dst + "self_attn.q_norm.weight": state[src + "attn.q_lnorm.weight"],
            dst + "self_attn.k_norm.weight": state[src + "attn.k_lnorm.weight"],
            dst + "input_layernorm.weight": state[src + "attn_lnorm.weight"],
            dst + "post_attention_layernorm.weight": state[src + "ffn_lnorm.weight"],
            dst + "mlp.gate_proj.weight": gate,
            dst + "mlp.up_proj.weight": up,
            dst + "mlp.down_proj.weight": state[src + "ffn.down.weight"],
        }
    return {name: tensor.contiguous() for name, tensor in out.items()}

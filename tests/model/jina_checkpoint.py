"""A tiny jina-vlm checkpoint in the reference layout, written here: the config with every field the
reference's ``JinaVLMConfig.to_dict()`` writes, random tensors under the names and shapes of its
``state_dict()`` (modeling_jvlm.py / blocks_jvlm.py), and a Qwen3 tokenizer with its extra tokens."""

from __future__ import annotations

import json

import torch
from safetensors.torch import save_file

from polyvlm.model.tokenizer import build_qwen_tokenizer

D_V, V_LAYERS, V_HEADS, V_FFN, PATCH, CROP = 32, 10, 2, 64, 14, 378
P_HEADS, P_HEAD_DIM, PROJ = 2, 16, 96
D_L, T_LAYERS, T_HEADS, T_KV, T_HEAD_DIM, T_FFN = 32, 2, 2, 1, 16, 64
VOCAB, EXTRA = 151936, 128
# The reference processor's extra tokens, in its EXTRA_TOKENS order, placed at the embedding's end.
JINA_TOKENS = ["<im_patch>", "<im_start>", "<im_end>", "<im_col>", "<|image|>", "<im_slice>"]


def _lnorm(kind: str, bias: bool | None, eps: float | None = 1e-6) -> dict:
    return {"type": kind, "with_affine": True, "eps": eps, "bias": bias}


def _attention(heads: int, head_dim: int, kv: int | None, qk_norm: bool, o_bias: bool, norm: dict) -> dict:
    return {
        "head_dim": head_dim, "n_heads": heads, "n_kv_heads": kv, "softmax_scale": None, "sliding_window": -1,
        "fp32": False, "dropout": 0.0, "q_bias": True, "k_bias": True, "v_bias": True, "o_bias": o_bias,
        "q_lnorm": qk_norm, "k_lnorm": qk_norm, "v_lnorm": False, "qkv_lnorm_on_heads": qk_norm,
        "o_lnorm": False, "inner_lnorm": False, "clip_qkv": None, "lnorm_config": norm,
    }  # fmt: skip


def _ffn(act: str, size: int, gated: bool, bias: bool) -> dict:
    return {"activation_type": act, "ratio": 4, "size": size, "bias": bias, "inner_lnorm": False,
            "gated_activation": gated, "lnorm_config": _lnorm("default", None, None)}  # fmt: skip


def _block(attn: dict, ffn: dict, norm: dict) -> dict:
    return {"attn_config": attn, "attn_lscale_init": None, "ffn_config": ffn, "ffn_lscale_init": None,
            "residual_dropout": 0.0, "residual_response_dropout": 0.0, "residual_path_dropout": 0.0,
            "postnorm": False, "lnorm_config": norm}  # fmt: skip


def reference_config() -> dict:
    """Every field JinaVLMConfig.to_dict() writes, with the released model's settings at tiny sizes."""
    return {
        "model_type": "jvlm",
        "tie_word_embeddings": False,
        "vision_config": {
            "block_config": _block(
                _attention(V_HEADS, D_V // V_HEADS, None, False, True, _lnorm("default", None, None)),
                _ffn("gelu_pytorch_tanh", V_FFN, gated=False, bias=True),
                _lnorm("default", True),
            ),
            "vl_connector_config": {
                "padding_embed_type": "pad_and_partial_pad",
                "pooling_type": "attention_meanq",
                "projector_type": "mlp",
                "pooling_h": 2,
                "pooling_w": 2,
                "spatial_merge_size": 2,
                "projector_dropout": 0.0,
                "feature_dropout": 0.0,
                "attn_pooling_config": _attention(
                    P_HEADS, P_HEAD_DIM, None, False, True, _lnorm("default", None, None)
                ),
                "mlp_projector_config": _ffn("silu", PROJ, gated=True, bias=False),
            },  # fmt: skip
            "n_layers": V_LAYERS,
            "hidden_size": D_V,
            "input_size": [CROP, CROP],
            "patch_size": PATCH,
            "n_channels": 3,
            "linear_patch_embedding": True,
            "patch_embedding_bias": True,
            "patch_dropout": 0.0,
            "pre_lnorm": False,
            "post_lnorm": True,
            "use_absolute_positional_embeddings": True,
            "use_cls_token": False,
            "positional_interpolation": "bicubic",
            "vit_layers": [-4, -10],
            "output_size": D_L,
        },  # fmt: skip
        "text_config": {
            "block_config": _block(
                _attention(T_HEADS, T_HEAD_DIM, T_KV, True, False, _lnorm("rms", None)),
                _ffn("silu", T_FFN, gated=True, bias=False),
                _lnorm("rms", None),
            ),
            "n_layers": T_LAYERS,
            "hidden_size": D_L,
            "embedding_dropout": 0.0,
            "max_sequence_length": 4096,
            "max_position_embeddings": None,
            "vocab_size": VOCAB,
            "embedding_size": VOCAB,
            "additional_vocab_size": EXTRA,
            "normalize_input_embeds": False,
            "rope": True,
            "partial_rotary_factor": 1.0,
            "rope_theta": 1000000.0,
            "rope_scaling": None,
        },  # fmt: skip
    }


REFERENCE_CONFIG = reference_config()
PREPROCESSOR_CONFIG = {
    "cropping_method": "overlap-and-resize", "normalization_method": "gaussian",
    "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "max_crops": 12,
    "overlap_margins": [4, 4], "base_input_size": [CROP, CROP], "patch_size": PATCH,
    "token_length_w": 14, "token_length_h": 14, "min_pixels": 3136, "max_pixels": 1003520,
}  # fmt: skip


def reference_tensors(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors under the names and shapes JinaVLMForConditionalGeneration.state_dict() has."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.1

    v, c, t = "model.vision_model.", "model.vision_model.vl_connector.", "model.language_model."
    width, pool_inner = 2 * D_V, P_HEADS * P_HEAD_DIM
    state = {
        v + "patch_embed.proj.weight": r(D_V, 3 * PATCH * PATCH),  # linear patch embedding
        v + "patch_embed.proj.bias": r(D_V),
        v + "pos_embed": r((CROP // PATCH) ** 2, D_V),
        v + "post_lnorm.weight": 1 + r(D_V),
        v + "post_lnorm.bias": r(D_V),
        c + "pad_embed": r(2, width),
        c + "pooling.q_w.weight": r(pool_inner, width),
        c + "pooling.kv_w.weight": r(2 * pool_inner, width),
        c + "pooling.q_b": r(pool_inner),
        c + "pooling.k_b": r(pool_inner),
        c + "pooling.v_b": r(pool_inner),
        c + "pooling.out.weight": r(D_V, pool_inner),
        c + "pooling.out.bias": r(D_V),
        c + "projector.up.weight": r(2 * PROJ, D_V),
        c + "projector.down.weight": r(D_L, PROJ),
        t + "embedding.embedding": r(VOCAB, D_L),
        t + "embedding.new_embedding": r(EXTRA, D_L),
        t + "ln_f.weight": 1 + r(D_L),
        "lm_head.weight": r(VOCAB, D_L),
    }
    for i in range(V_LAYERS):
        p = f"{v}layers.{i}."
        state |= {
            p + "attn.qkv_w.weight": r(3 * D_V, D_V),
            p + "attn.q_b": r(D_V),
            p + "attn.k_b": r(D_V),
            p + "attn.v_b": r(D_V),
            p + "attn.out.weight": r(D_V, D_V),
            p + "attn.out.bias": r(D_V),
            p + "attn_lnorm.weight": 1 + r(D_V),
            p + "attn_lnorm.bias": r(D_V),
            p + "ffn_lnorm.weight": 1 + r(D_V),
            p + "ffn_lnorm.bias": r(D_V),
            p + "ffn.up.weight": r(V_FFN, D_V),
            p + "ffn.up.bias": r(V_FFN),
            p + "ffn.down.weight": r(D_V, V_FFN),
            p + "ffn.down.bias": r(D_V),
        }
    q, kv = T_HEADS * T_HEAD_DIM, T_KV * T_HEAD_DIM
    for i in range(T_LAYERS):
        p = f"{t}layers.{i}."
        state |= {
            p + "attn.qkv_w.weight": r(q + 2 * kv, D_L),
            p + "attn.q_b": torch.zeros(q),  # present in the state dict, frozen at zero (no q_bias)
            p + "attn.k_b": torch.zeros(kv),
            p + "attn.v_b": torch.zeros(kv),
            p + "attn.out.weight": r(D_L, q),
            p + "attn.q_lnorm.weight": 1 + r(T_HEAD_DIM),
            p + "attn.k_lnorm.weight": 1 + r(T_HEAD_DIM),
            p + "attn_lnorm.weight": 1 + r(D_L),
            p + "ffn_lnorm.weight": 1 + r(D_L),
            p + "ffn.up.weight": r(2 * T_FFN, D_L),
            p + "ffn.down.weight": r(D_L, T_FFN),
        }
    return state


def write_reference(directory, state, tokenizer=None, config=None, preprocessor=None) -> None:
    """SRC as the reference's save_pretrained leaves it: config.json, preprocessor_config.json, tensors."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config or REFERENCE_CONFIG))
    (directory / "preprocessor_config.json").write_text(json.dumps(preprocessor or PREPROCESSOR_CONFIG))
    save_file(state, directory / "model.safetensors")
    if tokenizer is not None:
        tokenizer.save_pretrained(directory)


def jina_tokenizer():
    """The Qwen3 tokenizer with the reference's extra tokens at ids 151936.. (fillers up to there)."""
    tokenizer = build_qwen_tokenizer(with_image_tokens=False)
    fillers = [f"<|filler_{i}|>" for i in range(VOCAB - len(tokenizer))]
    tokenizer.add_special_tokens({"additional_special_tokens": fillers + JINA_TOKENS})
    tokenizer.eos_token = "<|endoftext|>"  # the reference's EOS (151643), also its BOS stand-in
    assert tokenizer.convert_tokens_to_ids("<im_patch>") == VOCAB
    return tokenizer

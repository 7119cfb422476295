"""A jina-vlm ``config.json`` read as the reference reads it: every field, the reference's defaults.

The reference (``configuration_jvlm.py``) builds dataclasses from the nested dicts, so a key that is
absent takes the dataclass default, and a key that is present (even ``null``) keeps its value; the
modules then resolve ``null``s (``eps or 1e-5``, ``head_dim or hidden // heads``, ...). This module
does the same, and refuses, naming the field, every value that PolyVLM (SigLIP + Qwen3 + the
attention-pool connector) does not compute exactly as the reference does. docs/model.md lists each
field, its default and what is refused.
"""

from __future__ import annotations

import math
from typing import Any

from transformers.activations import ACT2FN

from polyvlm.model.jina_layout import ConversionError, JinaSizes

_MISSING = object()


class Fields:
    """One nested dict of the config, with the dotted path its fields are named by in messages."""

    def __init__(self, data: dict | None, path: str):
        self.data, self.path = data or {}, path

    def get(self, key: str, default: Any) -> Any:
        """The field as the reference sees it: the default only when the key is absent."""
        value = self.data.get(key, _MISSING)
        return default if value is _MISSING else value

    def sub(self, key: str) -> Fields:
        """A nested dataclass field (absent or null: all its defaults, as ``_resolve_subconfig``)."""
        return Fields(self.data.get(key), f"{self.path}.{key}")

    def require(self, key: str, default: Any, allowed: tuple, why: str) -> Any:
        """The field's value, refused unless it is one of ``allowed``."""
        value = self.get(key, default)
        if value not in allowed:
            raise ConversionError(f"{self.path}.{key} = {value!r} is not supported: {why}")
        return value


def _lnorm(f: Fields, rms: bool, bias: bool) -> float:
    """A JinaLNormConfig: refuse the wrong norm type, no affine, a bias mismatch; return its eps."""
    kinds = ("rms",) if rms else ("default", "low_precision")  # low_precision differs only under autocast
    f.require("type", "default", kinds, "Qwen3 norms are RMSNorm" if rms else "SigLIP norms are LayerNorm")
    f.require("with_affine", True, (True,), "the norms have weights")
    if bool(f.get("bias", None)) != bias:
        raise ConversionError(f"{f.path}.bias = {f.get('bias', None)!r} is not supported: expected {bias}")
    return f.get("eps", None) or 1e-5  # the reference's `self.config.eps or eps` with eps=1e-5


def _attention(f: Fields, hidden: int, qk_norm: bool, out_bias: bool) -> tuple[int, int, int]:
    """A JinaAttentionConfig: (heads, kv heads, head_dim), refusing what SDPA with 1/sqrt(d) does not do."""
    heads = f.get("n_heads", 12)
    kv_heads = f.get("n_kv_heads", None) or heads
    head_dim = f.get("head_dim", None)
    if head_dim is None:
        if hidden % heads:
            raise ConversionError(
                f"{f.path}.head_dim is null and {hidden} is not a multiple of n_heads {heads}"
            )
        head_dim = hidden // heads
    scale = f.get("softmax_scale", None)
    if scale is not None and not math.isclose(scale, head_dim**-0.5, rel_tol=1e-9):
        raise ConversionError(f"{f.path}.softmax_scale = {scale!r} is not supported: only 1/sqrt(head_dim)")
    f.require("clip_qkv", None, (None,), "no clipping of q, k, v")
    f.require("sliding_window", -1, (-1,), "full attention only")
    f.require("inner_lnorm", False, (False,), "no norm before the output projection")
    f.require("v_lnorm", False, (False,), "no norm on the values")
    f.require("q_lnorm", False, (qk_norm,), "Qwen3 has q/k norms, SigLIP and the pool have none")
    f.require("k_lnorm", False, (qk_norm,), "Qwen3 has q/k norms, SigLIP and the pool have none")
    if qk_norm:
        f.require("qkv_lnorm_on_heads", False, (True,), "Qwen3 normalises q and k per head")
    f.require("o_bias", False, (out_bias,), "SigLIP and the pool have an output bias, Qwen3 has none")
    return heads, kv_heads, head_dim


def _ffn(
    f: Fields, hidden: int, gated: bool, bias: bool, activations: tuple | None = None
) -> tuple[int, str]:
    """A JinaFFNConfig: (inner size, activation), refusing a shape PolyVLM's MLP does not have."""
    act = f.get("activation_type", "silu")
    if activations is not None and act not in activations:
        raise ConversionError(
            f"{f.path}.activation_type = {act!r} is not supported: only {list(activations)}"
        )
    if str(act).lower() not in ACT2FN:
        raise ConversionError(f"{f.path}.activation_type = {act!r} is not an activation transformers knows")
    f.require(
        "gated_activation", True, (gated,), "SigLIP's MLP is not gated; Qwen3's and the projector's are"
    )
    f.require("bias", False, (bias,), "SigLIP's MLP has biases; Qwen3's and the projector's have none")
    f.require("inner_lnorm", False, (False,), "no norm inside the MLP")
    return f.get("size", None) or f.get("ratio", 4) * hidden, str(act).lower()


def _block(f: Fields, hidden: int, text: bool) -> dict[str, Any]:
    """A JinaTransformerBlockConfig of the ViT (``text=False``) or the LM."""
    f.require("attn_lscale_init", None, (None,), "no layer scale")
    f.require("ffn_lscale_init", None, (None,), "no layer scale")
    f.require("postnorm", False, (False,), "pre-norm blocks only")
    eps = _lnorm(f.sub("lnorm_config"), rms=text, bias=not text)
    heads, kv, head_dim = _attention(f.sub("attn_config"), hidden, qk_norm=text, out_bias=not text)
    ffn, act = _ffn(f.sub("ffn_config"), hidden, gated=text, bias=not text)
    out = {"eps": eps, "heads": heads, "kv_heads": kv, "head_dim": head_dim, "ffn": ffn, "act": act}
    if text:
        qk = f.sub("attn_config").sub("lnorm_config")
        qk_eps = _lnorm(qk, rms=True, bias=False)
        if qk_eps != eps:  # Qwen3 has one rms_norm_eps for every norm
            raise ConversionError(f"{qk.path}.eps = {qk_eps} differs from the block norms' eps {eps}")
    return out


def _vision(v: Fields) -> dict[str, Any]:
    """The ViT's fields (JinaVLMVisionConfig)."""
    hidden = v.get("hidden_size", 768)
    size = v.get("input_size", None)
    if size is None or size[0] != size[1]:
        raise ConversionError(f"{v.path}.input_size = {size!r} is not supported: a fixed square crop")
    v.require("n_channels", 3, (3,), "RGB")
    v.require("linear_patch_embedding", True, (True,), _CONV_PATCHES)
    v.require("patch_embedding_bias", True, (True,), "SigLIP's patch embedding has a bias")
    v.require("pre_lnorm", False, (False,), "SigLIP has no norm before the blocks")
    v.require("use_absolute_positional_embeddings", True, (True,), "SigLIP's learned positions")
    v.require("use_cls_token", True, (False,), "SigLIP has no class token")
    block = _block(v.sub("block_config"), hidden, text=False)
    if block["kv_heads"] != block["heads"] or block["heads"] * block["head_dim"] != hidden:
        raise ConversionError(
            f"{v.path}.block_config.attn_config: SigLIP needs kv heads = heads, heads x head_dim = hidden"
        )
    return {
        "hidden": hidden,
        "layers": v.get("n_layers", 12),
        "patch": v.get("patch_size", 14),
        "image_size": size[0],
        "vit_layers": tuple(v.get("vit_layers", (-1,))),
        "post_lnorm": bool(v.get("post_lnorm", False)),
        "output_size": v.get("output_size", 768),
        **block,
    }


_CONV_PATCHES = (
    "the reference's Conv2d branch folds the processor's (patches, pixels) input back into an image in "
    "another order, so each output mixes pixels of a whole row of patches: no convolution computes it"
)


def _connector(c: Fields, vision_hidden: int, n_layers: int) -> dict[str, Any]:
    """The connector's fields (JinaVLConnectorConfig)."""
    pad = c.require("padding_embed_type", None, (None, "pad_embed", "pad_and_partial_pad"),
                    "'regress' adds its embedding to every real patch")  # fmt: skip
    c.require("pooling_type", "attention", ("attention_meanq",), "PolyVLM pools with the window-mean query")
    c.require("projector_type", "mlp", ("mlp",), "PolyVLM projects with one SwiGLU")
    c.require("pooling_h", 2, (2,), "2x2 pooling windows")
    c.require("pooling_w", 2, (2,), "2x2 pooling windows")
    width = vision_hidden * n_layers
    heads, kv, head_dim = _attention(c.sub("attn_pooling_config"), width, qk_norm=False, out_bias=True)
    if kv != heads:
        raise ConversionError(
            f"{c.path}.attn_pooling_config.n_kv_heads = {kv} is not supported: pool kv heads = heads"
        )
    proj, _ = _ffn(
        c.sub("mlp_projector_config"), vision_hidden, gated=True, bias=False, activations=("silu", "swish")
    )
    return {"pad_embed_type": pad, "pool_heads": heads, "pool_head_dim": head_dim, "projector": proj}


def _text(t: Fields) -> dict[str, Any]:
    """The LM's fields (JinaVLMTextConfig)."""
    hidden = t.get("hidden_size", 768)
    t.require("rope", False, (True,), "Qwen3 uses rotary positions")
    t.require("partial_rotary_factor", 1.0, (1.0, 1), "rotary on the whole head")
    t.require("normalize_input_embeds", False, (False,), "embeddings are not scaled")
    scaling = t.get("rope_scaling", None)
    if scaling and scaling.get("rope_type", "default") != "default":
        raise ConversionError(f"{t.path}.rope_scaling = {scaling!r} is not supported: plain RoPE only")
    extra = t.get("additional_vocab_size", None)
    if not extra:
        raise ConversionError(
            f"{t.path}.additional_vocab_size = {extra!r} is not supported: the image tokens need rows"
        )
    vocab = t.get("vocab_size", 50257)
    rows = t.get("embedding_size", 50304) or vocab
    block = _block(t.sub("block_config"), hidden, text=True)
    positions = t.get("max_position_embeddings", None) or t.get("max_sequence_length", 1024)
    return {"hidden": hidden, "layers": t.get("n_layers", 12), "rows": rows, "extra": extra,
            "rope_theta": t.get("rope_theta", 1000000.0), "positions": positions, **block}  # fmt: skip


def read_jina_config(config: dict) -> JinaSizes:
    """The sizes and settings of a reference ``config.json``; ConversionError names any refused field."""
    root = Fields(config, "config")
    v = _vision(root.sub("vision_config"))
    t = _text(root.sub("text_config"))
    c = _connector(root.sub("vision_config").sub("vl_connector_config"), v["hidden"], len(v["vit_layers"]))
    if v["output_size"] != t["hidden"]:
        raise ConversionError(
            f"config.vision_config.output_size = {v['output_size']} differs from the LM's {t['hidden']}"
        )
    return JinaSizes(
        vision_hidden=v["hidden"], vision_layers=v["layers"], vision_heads=v["heads"],
        vision_head_dim=v["head_dim"], vision_ffn=v["ffn"], vision_eps=v["eps"], vision_act=v["act"],
        patch_size=v["patch"], image_size=v["image_size"], vit_layers=v["vit_layers"],
        post_lnorm=v["post_lnorm"], pool_heads=c["pool_heads"], pool_head_dim=c["pool_head_dim"],
        projector_hidden=c["projector"], pad_embed_type=c["pad_embed_type"], text_hidden=t["hidden"],
        text_layers=t["layers"], text_heads=t["heads"], text_kv_heads=t["kv_heads"],
        text_head_dim=t["head_dim"], text_ffn=t["ffn"], text_eps=t["eps"], text_act=t["act"],
        vocab_size=t["rows"], additional_vocab_size=t["extra"], rope_theta=t["rope_theta"],
        max_positions=t["positions"], tie_word_embeddings=bool(root.get("tie_word_embeddings", False)),
    )  # fmt: skip

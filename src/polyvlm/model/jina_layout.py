"""A jina-vlm checkpoint as its reference code writes it: sizes from config.json, tensor names and shapes.

The reference (``modeling_jvlm.py``, ``blocks_jvlm.py``) saves ``JinaVLMForConditionalGeneration``:
``model.vision_model.*`` (a SigLIP-style ViT with fused ``qkv_w`` and separate ``q_b``/``k_b``/``v_b``,
plus the ``vl_connector``), ``model.language_model.*`` (Qwen3 blocks with fused ``qkv_w`` and a gated
``ffn.up`` holding [up; gate], an ``ExtendedEmbedding`` of ``embedding`` + ``new_embedding`` rows) and
``lm_head.weight`` (absent when the embeddings are tied). Which tensors exist follows the config
(``post_lnorm``, ``padding_embed_type``, ``tie_word_embeddings``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JinaSizes:
    """What a jina-vlm checkpoint's tensors follow, as ``jina_config.read_jina_config`` reads it."""

    vision_hidden: int
    vision_layers: int
    vision_heads: int
    vision_head_dim: int
    vision_ffn: int
    vision_eps: float
    vision_act: str
    patch_size: int
    image_size: int
    vit_layers: tuple[int, ...]
    post_lnorm: bool
    pool_heads: int
    pool_head_dim: int
    projector_hidden: int
    pad_embed_type: str | None
    text_hidden: int
    text_layers: int
    text_heads: int
    text_kv_heads: int
    text_head_dim: int
    text_ffn: int
    text_eps: float
    text_act: str
    vocab_size: int
    additional_vocab_size: int
    rope_theta: float
    max_positions: int
    tie_word_embeddings: bool


class ConversionError(ValueError):
    """SRC is not a jina-vlm checkpoint this converter can map exactly; nothing was written."""


VISION = "model.vision_model."
CONNECTOR = VISION + "vl_connector."
TEXT = "model.language_model."


def reference_shapes(s: JinaSizes) -> dict[str, tuple[int, ...]]:
    """Every tensor name of a jina-vlm checkpoint and its shape (patch embedding as the linear form)."""
    d, pixels, width = s.vision_hidden, 3 * s.patch_size**2, s.vision_hidden * len(s.vit_layers)
    v_inner, p_inner = s.vision_heads * s.vision_head_dim, s.pool_heads * s.pool_head_dim
    shapes: dict[str, tuple[int, ...]] = {
        VISION + "patch_embed.proj.weight": (d, pixels),
        VISION + "patch_embed.proj.bias": (d,),
        VISION + "pos_embed": ((s.image_size // s.patch_size) ** 2, d),
        CONNECTOR + "pooling.q_w.weight": (p_inner, width),
        CONNECTOR + "pooling.kv_w.weight": (2 * p_inner, width),
        CONNECTOR + "pooling.q_b": (p_inner,),
        CONNECTOR + "pooling.k_b": (p_inner,),
        CONNECTOR + "pooling.v_b": (p_inner,),
        CONNECTOR + "pooling.out.weight": (d, p_inner),
        CONNECTOR + "pooling.out.bias": (d,),
        CONNECTOR + "projector.up.weight": (2 * s.projector_hidden, d),
        CONNECTOR + "projector.down.weight": (s.text_hidden, s.projector_hidden),
        TEXT + "embedding.embedding": (s.vocab_size, s.text_hidden),
        TEXT + "embedding.new_embedding": (s.additional_vocab_size, s.text_hidden),
        TEXT + "ln_f.weight": (s.text_hidden,),
    }
    if not s.tie_word_embeddings:
        shapes["lm_head.weight"] = (s.vocab_size, s.text_hidden)
    if s.post_lnorm:
        shapes |= {VISION + "post_lnorm.weight": (d,), VISION + "post_lnorm.bias": (d,)}
    if s.pad_embed_type is not None:  # one row ("pad_embed") or all-padding + partial-padding rows
        shapes[CONNECTOR + "pad_embed"] = (width,) if s.pad_embed_type == "pad_embed" else (2, width)
    for i in range(s.vision_layers):
        p = f"{VISION}layers.{i}."
        shapes |= {
            p + "attn.qkv_w.weight": (3 * v_inner, d),
            p + "attn.q_b": (v_inner,),
            p + "attn.k_b": (v_inner,),
            p + "attn.v_b": (v_inner,),
            p + "attn.out.weight": (d, v_inner),
            p + "attn.out.bias": (d,),
            p + "attn_lnorm.weight": (d,),
            p + "attn_lnorm.bias": (d,),
            p + "ffn_lnorm.weight": (d,),
            p + "ffn_lnorm.bias": (d,),
            p + "ffn.up.weight": (s.vision_ffn, d),
            p + "ffn.up.bias": (s.vision_ffn,),
            p + "ffn.down.weight": (d, s.vision_ffn),
            p + "ffn.down.bias": (d,),
        }
    q, kv, h = s.text_heads * s.text_head_dim, s.text_kv_heads * s.text_head_dim, s.text_hidden
    for i in range(s.text_layers):
        p = f"{TEXT}layers.{i}."
        shapes |= {
            p + "attn.qkv_w.weight": (q + 2 * kv, h),
            p + "attn.q_b": (q,),
            p + "attn.k_b": (kv,),
            p + "attn.v_b": (kv,),
            p + "attn.out.weight": (h, q),
            p + "attn.q_lnorm.weight": (s.text_head_dim,),
            p + "attn.k_lnorm.weight": (s.text_head_dim,),
            p + "attn_lnorm.weight": (h,),
            p + "ffn_lnorm.weight": (h,),
            p + "ffn.up.weight": (2 * s.text_ffn, h),
            p + "ffn.down.weight": (h, s.text_ffn),
        }
    return shapes

"""A jina-vlm checkpoint as its reference code writes it: sizes from config.json, tensor names and shapes.

The reference (``modeling_jvlm.py``, ``blocks_jvlm.py``) saves ``JinaVLMForConditionalGeneration``:
``model.vision_model.*`` (a SigLIP-style ViT with fused ``qkv_w`` and separate ``q_b``/``k_b``/``v_b``,
plus the ``vl_connector``), ``model.language_model.*`` (Qwen3 blocks with fused ``qkv_w`` and a gated
``ffn.up`` holding [up; gate], an ``ExtendedEmbedding`` of ``embedding`` + ``new_embedding`` rows) and
``lm_head.weight``. Sizes the released ``config.json`` holds are read from it when present; a missing
one takes the value the reference code and the mlx-vlm port imply for the released model (see
docs/model.md, "assumed, check against the released config").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JinaSizes:
    """The sizes a jina-vlm checkpoint's tensors follow (defaults: the released jina-vlm, assumed)."""

    vision_hidden: int = 1152
    vision_layers: int = 27
    vision_heads: int = 16
    vision_head_dim: int = 72
    vision_ffn: int = 4304
    vision_eps: float = 1e-6
    patch_size: int = 14
    image_size: int = 378
    vit_layers: tuple[int, ...] = (-4, -10)
    pool_heads: int = 16
    pool_head_dim: int = 72
    projector_hidden: int = 6144
    text_hidden: int = 2048
    text_layers: int = 28
    text_heads: int = 16
    text_kv_heads: int = 8
    text_head_dim: int = 128
    text_ffn: int = 6144
    text_eps: float = 1e-6
    vocab_size: int = 151936
    additional_vocab_size: int = 128
    rope_theta: float = 1000000.0
    max_positions: int = 40960

    @classmethod
    def from_config(cls, config: dict) -> JinaSizes:
        """Sizes from a reference ``config.json`` (nested ``block_config``), defaults where a key is absent."""
        d = cls()
        vision, text = config.get("vision_config") or {}, config.get("text_config") or {}
        v_block, t_block = vision.get("block_config") or {}, text.get("block_config") or {}
        v_attn, t_attn = v_block.get("attn_config") or {}, t_block.get("attn_config") or {}
        connector = vision.get("vl_connector_config") or {}
        pool_attn = connector.get("attn_pooling_config") or {}
        input_size = vision.get("input_size") or [d.image_size, d.image_size]
        return cls(
            vision_hidden=vision.get("hidden_size", d.vision_hidden),
            vision_layers=vision.get("n_layers", d.vision_layers),
            vision_heads=v_attn.get("n_heads", d.vision_heads),
            vision_head_dim=v_attn.get("head_dim", d.vision_head_dim),
            vision_ffn=(v_block.get("ffn_config") or {}).get("size", d.vision_ffn),
            vision_eps=(v_block.get("lnorm_config") or {}).get("eps", d.vision_eps),
            patch_size=vision.get("patch_size", d.patch_size),
            image_size=input_size[0],
            vit_layers=tuple(vision.get("vit_layers", d.vit_layers)),
            pool_heads=pool_attn.get("n_heads", d.pool_heads),
            pool_head_dim=pool_attn.get("head_dim", d.pool_head_dim),
            projector_hidden=(connector.get("mlp_projector_config") or {}).get("size", d.projector_hidden),
            text_hidden=text.get("hidden_size", d.text_hidden),
            text_layers=text.get("n_layers", d.text_layers),
            text_heads=t_attn.get("n_heads", d.text_heads),
            text_kv_heads=t_attn.get("n_kv_heads", d.text_kv_heads),
            text_head_dim=t_attn.get("head_dim", d.text_head_dim),
            text_ffn=(t_block.get("ffn_config") or {}).get("size", d.text_ffn),
            text_eps=(t_block.get("lnorm_config") or {}).get("eps", d.text_eps),
            vocab_size=text.get("embedding_size") or text.get("vocab_size", d.vocab_size),
            additional_vocab_size=text.get("additional_vocab_size", d.additional_vocab_size),
            rope_theta=text.get("rope_theta", d.rope_theta),
            max_positions=text.get("max_sequence_length", d.max_positions),
        )


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
        VISION + "post_lnorm.weight": (d,),
        VISION + "post_lnorm.bias": (d,),
        CONNECTOR + "pad_embed": (2, width),
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
        "lm_head.weight": (s.vocab_size, s.text_hidden),
    }
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

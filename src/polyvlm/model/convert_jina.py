"""``polyvlm model convert-jina SRC OUT``: a jina-vlm checkpoint -> a PolyVLM checkpoint, tensor for tensor.

Every tensor of SRC is checked against the reference layout (``jina_layout.py``) before anything is
written: a missing, unexpected or misshapen tensor stops the conversion with the list of them. Then:

- vision: fused ``qkv_w`` (3*H*d_h, d) splits into q, k, v (in that order) with ``q_b``/``k_b``/``v_b``
  as their biases; a linear patch embedding (d, p*p*3, pixels ordered row, column, channel) becomes
  SigLIP's (d, 3, p, p) convolution; norms and MLP map one to one;
- connector: ``pooling.kv_w`` splits into k then v; ``projector.up`` holds [up; gate] (the reference
  computes ``act(gate) * up``) and becomes SwiGLU's w2 (up) and w1 (gate);
- language model: ``qkv_w`` splits into q (H*d_h), k and v (KV*d_h each); the q/k/v biases must be
  zero (Qwen3 has none); ``ffn.up`` = [up; gate]; ``embedding`` + ``new_embedding`` become one
  embedding table of vocab + extra rows; ``lm_head`` (vocab rows only) gets zero rows for the extra
  tokens, which ``generation_config.suppress_tokens`` keeps from ever being generated, as in the
  reference, whose head cannot produce them.

OUT is written to a temporary directory first and renamed when complete.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, GenerationConfig

from polyvlm.model.configuration import PolyVLMConfig
from polyvlm.model.image_processing import PolyVLMImageProcessor
from polyvlm.model.jina_layout import CONNECTOR, TEXT, VISION, JinaSizes, reference_shapes
from polyvlm.model.modeling import PolyVLMForConditionalGeneration
from polyvlm.model.processing import PolyVLMProcessor
from polyvlm.model.tokenizer import IMAGE_TOKENS

# Where the released tokenizer puts the image tokens, if SRC carries no tokenizer (assumed): the
# reference's EXTRA_TOKENS order (<im_patch>, <im_start>, <im_end>, <im_col>, <|image|>, <im_slice>)
# appended at the 151,936 embedding rows, which puts <|image|> at 151,940 as the released config has it.
ASSUMED_IMAGE_TOKEN_IDS = {
    "image_patch_token_id": 151936,
    "image_start_token_id": 151937,
    "image_end_token_id": 151938,
    "image_col_token_id": 151939,
}


class ConversionError(ValueError):
    """SRC is not a jina-vlm checkpoint this converter can map exactly; nothing was written."""


def read_checkpoint(src: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    """config.json (or {}) and every tensor of the *.safetensors files in ``src``."""
    files = sorted(src.glob("*.safetensors"))
    if not files:
        raise ConversionError(f"{src} holds no *.safetensors files")
    config_file = src / "config.json"
    config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    state: dict[str, torch.Tensor] = {}
    for file in files:
        state.update(load_file(file))
    return config, state


def check_layout(state: dict[str, torch.Tensor], sizes: JinaSizes) -> None:
    """Refuse unless ``state`` holds exactly the reference's tensors with the reference's shapes."""
    expected = reference_shapes(sizes)
    conv_name = VISION + "patch_embed.proj.weight"
    if conv_name in state and state[conv_name].dim() == 4:  # the reference's Conv2d patch embedding
        expected[conv_name] = (sizes.vision_hidden, 3, sizes.patch_size, sizes.patch_size)
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    misshapen = [
        f"{k}: {tuple(state[k].shape)}, expected {expected[k]}"
        for k in sorted(set(expected) & set(state))
        if tuple(state[k].shape) != expected[k]
    ]
    problems = [
        (f"{len(names)} {what}", names)
        for what, names in (("missing", missing), ("unexpected", extra), ("misshapen", misshapen))
        if names
    ]
    if problems:
        lines = [
            f"  {head}: " + ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
            for head, names in problems
        ]
        raise ConversionError(
            "not a jina-vlm checkpoint in the reference layout (sizes from config.json, or the released "
            "model's where it is silent):\n" + "\n".join(lines)
        )


def feature_layers(sizes: JinaSizes) -> list[int]:
    """The reference's ``vit_layers`` as indices into transformers' ``hidden_states``.

    The reference indexes a list of the n layer outputs followed by the post-layernorm output, so
    entry p < n is layer p's output, which is ``hidden_states[p + 1]``; negative i is ``i + 1``.
    """
    n, layers = sizes.vision_layers, []
    for index in sizes.vit_layers:
        if not -(n + 1) <= index < n:
            raise ConversionError(
                f"vit_layers {list(sizes.vit_layers)}: {index} is not one of the {n} layers"
            )
        position = index % (n + 1)
        if position == n:
            raise ConversionError(f"vit_layers {list(sizes.vit_layers)} use the post-layernorm output")
        layers.append(position + 1)
    return [p - (n + 1) for p in layers]  # negative, as PolyVLM's defaults are written


def polyvlm_config(sizes: JinaSizes, token_ids: dict[str, int]) -> PolyVLMConfig:
    """The PolyVLMConfig whose tensors the converted checkpoint fills."""
    if sizes.vision_heads * sizes.vision_head_dim != sizes.vision_hidden:
        raise ConversionError("SigLIP needs vision heads x head_dim == hidden_size")
    vision = {
        "model_type": "siglip_vision_model",
        "hidden_size": sizes.vision_hidden,
        "intermediate_size": sizes.vision_ffn,
        "num_hidden_layers": sizes.vision_layers,
        "num_attention_heads": sizes.vision_heads,
        "image_size": sizes.image_size,
        "patch_size": sizes.patch_size,
        "layer_norm_eps": sizes.vision_eps,
        "hidden_act": "gelu_pytorch_tanh",
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


def convert_state(state: dict[str, torch.Tensor], sizes: JinaSizes) -> dict[str, torch.Tensor]:
    """Reference tensors -> PolyVLM tensors (names of ``PolyVLMForConditionalGeneration.state_dict()``)."""
    out: dict[str, torch.Tensor] = {}
    tower = "vision_tower."
    patch = state[VISION + "patch_embed.proj.weight"]
    if patch.dim() == 2:  # linear over pixels ordered (row, column, channel) -> (d, channel, row, column)
        p = sizes.patch_size
        patch = patch.view(patch.shape[0], p, p, 3).permute(0, 3, 1, 2)
    out[tower + "embeddings.patch_embedding.weight"] = patch
    out[tower + "embeddings.patch_embedding.bias"] = state[VISION + "patch_embed.proj.bias"]
    out[tower + "embeddings.position_embedding.weight"] = state[VISION + "pos_embed"]
    for part in ("weight", "bias"):
        out[tower + f"post_layernorm.{part}"] = state[VISION + f"post_lnorm.{part}"]
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
    out["connector.pad_embed"] = state[CONNECTOR + "pad_embed"]
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
    head = state["lm_head.weight"]
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


def check_against_model(tensors: dict[str, torch.Tensor], config: PolyVLMConfig) -> None:
    """The converted tensors must be exactly the model's (built on the meta device, so no memory)."""
    with torch.device("meta"):
        model = PolyVLMForConditionalGeneration(config)
    wanted = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in tensors.items()}
    if wanted != got:
        diff = sorted(set(wanted.items()) ^ set(got.items()))
        raise ConversionError(f"converted tensors do not fit PolyVLM (a converter bug): {diff[:8]}")


def image_processor_from(src: Path) -> PolyVLMImageProcessor:
    """A PolyVLMImageProcessor with the reference preprocessor_config.json's tiling values where present."""
    file = src / "preprocessor_config.json"
    pre = json.loads(file.read_text()) if file.is_file() else {}
    size = pre.get("size") or {}
    margins = pre.get("overlap_margins") or [4, 4]
    base = pre.get("base_input_size") or [378, 378]
    patch = pre.get("patch_size", 14)
    if margins[0] != margins[1] or base[0] != base[1]:
        raise ConversionError(f"unequal overlap margins {margins} or a non-square crop {base}")
    kwargs = {"image_mean": pre["image_mean"], "image_std": pre["image_std"]} if "image_mean" in pre else {}
    return PolyVLMImageProcessor(
        max_tiles=pre.get("max_crops", 12),
        patch_size=patch,
        crop_patches=base[0] // patch,
        margin_patches=margins[0],
        min_pixels=pre.get("min_pixels") or size.get("shortest_edge", 56 * 56),
        max_pixels=pre.get("max_pixels") or size.get("longest_edge", 28 * 28 * 1280),
        **kwargs,
    )


def token_ids_from(tokenizer) -> dict[str, int]:
    """Image token ids as SRC's tokenizer assigns them (the tokenizer, not a constant, is the truth)."""
    vocab = tokenizer.get_vocab()
    missing = [t for t in IMAGE_TOKENS.values() if t not in vocab]
    if missing:
        raise ConversionError(f"SRC's tokenizer lacks the image tokens {missing}")
    return {key: vocab[token] for key, token in IMAGE_TOKENS.items()}


def convert_jina(src: str | Path, out: str | Path) -> Path:
    """Convert the jina-vlm checkpoint in ``src`` into a PolyVLM directory ``out`` (which must not exist)."""
    src, out = Path(src), Path(out)
    if out.exists() and any(out.iterdir()):
        raise ConversionError(f"{out} exists and is not empty")
    config_json, state = read_checkpoint(src)
    sizes = JinaSizes.from_config(config_json)
    check_layout(state, sizes)
    has_tokenizer = (src / "tokenizer.json").is_file() or (src / "tokenizer_config.json").is_file()
    tokenizer = AutoTokenizer.from_pretrained(src) if has_tokenizer else None
    token_ids = token_ids_from(tokenizer) if tokenizer is not None else dict(ASSUMED_IMAGE_TOKEN_IDS)
    config = polyvlm_config(sizes, token_ids)
    tensors = convert_state(state, sizes)
    check_against_model(tensors, config)
    config.dtype = str(next(iter(tensors.values())).dtype).removeprefix("torch.")
    extra_ids = list(range(sizes.vocab_size, sizes.vocab_size + sizes.additional_vocab_size))
    if (src / "generation_config.json").is_file():
        generation = GenerationConfig.from_pretrained(src)
    else:  # <|endoftext|> (the reference's EOS) and <|im_end|> (the end of a ChatML turn)
        generation = GenerationConfig(eos_token_id=[151643, 151645], pad_token_id=151643)
    generation.suppress_tokens = extra_ids
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        config.save_pretrained(work)
        generation.save_pretrained(work)
        save_file(tensors, work / "model.safetensors", metadata={"format": "pt"})
        if tokenizer is not None:
            # The reference starts every sequence with the tokenizer's BOS, or its EOS when it has none.
            start = tokenizer.bos_token or tokenizer.eos_token
            processor = PolyVLMProcessor(
                image_processor_from(src), tokenizer, pool_size=config.pool_size, sequence_start=start
            )
            processor.save_pretrained(work)
        if out.exists():
            out.rmdir()
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out

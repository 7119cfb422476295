"""A tiny randomly initialised PolyVLM with the real Qwen tokenizer: for tests, demos and benchmarks.

It has the real geometry (378 px crops of 27x27 patches, margins of 4, the same token layout) and the
real vocabulary, but a 10-layer 32-wide SigLIP and a 2-layer 32-wide Qwen3, so it runs in a fraction
of a second on a CPU and answers noise.
"""

from __future__ import annotations

import torch

from polyvlm.model.configuration import PolyVLMConfig
from polyvlm.model.image_processing import PolyVLMImageProcessor
from polyvlm.model.modeling import PolyVLMForConditionalGeneration
from polyvlm.model.processing import PolyVLMProcessor
from polyvlm.model.tokenizer import add_image_tokens, build_qwen_tokenizer

TINY_VISION = {
    "model_type": "siglip_vision_model",
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 10,  # enough for the ninth-to-last layer to be an encoder layer
    "num_attention_heads": 2,
    "image_size": 378,
    "patch_size": 14,
    "vision_use_head": False,
}
TINY_TEXT = {
    "model_type": "qwen3",
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 16,
    "max_position_embeddings": 32768,
}


def tiny_processor(tokenizer=None, pool_size: int = 2, max_tiles: int = 12) -> PolyVLMProcessor:
    """The real processor (Qwen tokenizer with image tokens, 378 px tiles) for a model pooling ``pool_size``."""
    tokenizer = tokenizer if tokenizer is not None else build_qwen_tokenizer()
    return PolyVLMProcessor(PolyVLMImageProcessor(max_tiles=max_tiles), tokenizer, pool_size=pool_size)


def tiny_model(
    tokenizer, connector: str = "attention_pool", seed: int = 0, **config_kwargs
) -> PolyVLMForConditionalGeneration:
    """A tiny random PolyVLM whose vocabulary fits ``tokenizer`` (which must hold the image tokens)."""
    token_ids = add_image_tokens(tokenizer)
    config = PolyVLMConfig(
        vision_config=dict(TINY_VISION),
        text_config={**TINY_TEXT, "vocab_size": len(tokenizer), "pad_token_id": tokenizer.pad_token_id},
        connector=connector,
        **token_ids,
        **config_kwargs,
    )
    torch.manual_seed(seed)
    model = PolyVLMForConditionalGeneration(config).eval()
    # transformers' N(0, 0.02) init leaves the connector's SwiGLU output at ~1e-6, so images would barely
    # move this model's outputs and a test could not tell one image from another. torch's own Linear
    # init (U(+-1/sqrt(fan_in))) gives image features of the token embeddings' scale.
    for module in model.connector.modules():
        if isinstance(module, torch.nn.Linear):
            module.reset_parameters()
    model.generation_config.eos_token_id = [tokenizer.convert_tokens_to_ids("<|im_end|>")]
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def save_tiny(out_dir: str, connector: str = "attention_pool", seed: int = 0) -> None:
    """Write a tiny random PolyVLM and its processor to ``out_dir`` (loadable with the Auto classes)."""
    processor = tiny_processor(pool_size=2 if connector == "attention_pool" else 1)
    tiny_model(processor.tokenizer, connector, seed).save_pretrained(out_dir)
    processor.save_pretrained(out_dir)

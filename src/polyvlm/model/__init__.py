"""The polyvlm model: SigLIP + attention-pooling connector + causal LM, with overlapping tiling.

Importing this package is cheap (no torch). The public classes load on first access, and importing
any of them registers PolyVLM with transformers' Auto classes (AutoConfig,
AutoModelForImageTextToText, AutoImageProcessor, AutoProcessor); ``import polyvlm.model.auto`` does all
of it at once.
"""

from __future__ import annotations

import importlib

_PUBLIC = {
    "PolyVLMConfig": "configuration",
    "PolyVLMForConditionalGeneration": "modeling",
    "PolyVLMImageProcessor": "image_processing",
    "PolyVLMProcessor": "processing",
    "build_qwen_tokenizer": "tokenizer",
    "add_image_tokens": "tokenizer",
    "image_token_count": "token_count",
    "tokens_for_image_size": "token_count",
    "grid_for_image_size": "token_count",
    "convert_jina": "convert_jina",
    "select_grid": "tiling",
    "TileGeometry": "tiling",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    importlib.import_module("polyvlm.model.auto")
    return getattr(importlib.import_module(f"polyvlm.model.{_PUBLIC[name]}"), name)

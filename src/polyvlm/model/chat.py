"""Load a saved PolyVLM directory and answer a question about images (greedy decoding)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from PIL import Image

from polyvlm.model.modeling import ModelLoadError, PolyVLMForConditionalGeneration
from polyvlm.model.processing import PolyVLMProcessor


def load_model(model_dir: str | os.PathLike) -> tuple[PolyVLMForConditionalGeneration, PolyVLMProcessor]:
    """Model and processor from a directory written by save_pretrained, through the Auto classes."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    import polyvlm.model.auto  # noqa: F401 -- registers PolyVLM with the Auto classes

    path = Path(model_dir)
    if not (path / "config.json").is_file():
        raise ModelLoadError(
            f"{model_dir} is not a saved PolyVLM (no config.json). Build one with "
            "'polyvlm model build --vision ... --text ... DIR' or a tiny random one with 'polyvlm model tiny DIR'."
        )
    try:
        processor = AutoProcessor.from_pretrained(path)
        model = AutoModelForImageTextToText.from_pretrained(path).eval()
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"could not load a PolyVLM from {model_dir}: {e}") from e
    if not isinstance(model, PolyVLMForConditionalGeneration):
        raise ModelLoadError(f"{model_dir} holds a {type(model).__name__}, not a PolyVLM")
    return model, processor


def load_image(path: str | os.PathLike) -> Image.Image:
    """An RGB image from a file, with a clear error for a missing or unreadable one."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read image {path}: {e}") from e


def answer(
    model: PolyVLMForConditionalGeneration,
    processor: PolyVLMProcessor,
    question: str,
    images: list[Image.Image] = (),
    max_new_tokens: int = 64,
    max_tiles: int | None = None,
) -> str:
    """The model's greedy answer to ``question`` about ``images`` (placed before the question)."""
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": question}]
    prompt = processor.apply_chat_template(
        [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False
    )
    inputs = processor(text=prompt, images=list(images) or None, max_tiles=max_tiles)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return processor.tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)

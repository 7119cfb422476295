"""Fixtures for the model tests: the real Qwen tokenizer, the real processor, tiny random PolyVLMs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from transformers.utils import logging  # noqa: E402

from polyvlm.model.tiny import tiny_model, tiny_processor  # noqa: E402
from polyvlm.model.tokenizer import build_qwen_tokenizer  # noqa: E402

logging.set_verbosity_error()
logging.disable_progress_bar()
torch.set_num_threads(2)

PHOTO = Path(__file__).parents[2] / "examples/data/photos/easyocr__japanese.jpg"  # see its PROVENANCE.md


def noise_image(width: int, height: int, seed: int = 0) -> Image.Image:
    """A reproducible RGB noise image."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


@pytest.fixture(scope="session")
def tokenizer():
    return build_qwen_tokenizer()


@pytest.fixture(scope="session")
def processor(tokenizer):
    return tiny_processor(tokenizer)


@pytest.fixture(scope="session")
def model(tokenizer):
    return tiny_model(tokenizer)


@pytest.fixture(scope="session")
def photo() -> Image.Image:
    with Image.open(PHOTO) as image:
        return image.convert("RGB")

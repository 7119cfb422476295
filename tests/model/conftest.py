"""Fixtures for the model tests: the real Qwen tokenizer, the real processor, tiny random PolyVLMs."""

from __future__ import annotations

import pytest
from PIL import Image

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from model_inputs import PHOTO  # noqa: E402
from transformers.utils import logging  # noqa: E402

from polyvlm.model.tiny import tiny_model, tiny_processor  # noqa: E402
from polyvlm.model.tokenizer import build_qwen_tokenizer  # noqa: E402

logging.set_verbosity_error()
logging.disable_progress_bar()
torch.set_num_threads(2)


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

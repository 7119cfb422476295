"""Fixtures for the training tests: the real Qwen tokenizer and processor, tiny random PolyVLMs, bundled data."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from transformers.utils import logging  # noqa: E402

from polyvlm.model.tiny import tiny_model, tiny_processor  # noqa: E402
from polyvlm.model.tokenizer import build_qwen_tokenizer  # noqa: E402

logging.set_verbosity_error()
logging.disable_progress_bar()
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tokenizer():
    return build_qwen_tokenizer()


@pytest.fixture(scope="session")
def processor(tokenizer):
    return tiny_processor(tokenizer, max_tiles=1)


@pytest.fixture
def model(tokenizer):
    """A fresh tiny model per test (tests train it)."""
    return tiny_model(tokenizer, seed=0).train()

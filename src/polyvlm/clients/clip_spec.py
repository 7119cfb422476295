"""What a CLIP model is and how loading it fails: the spec, the backend interface, the offline switch.

Shared by the scorer (`clip.py`) and the backends (`clip_backends.py`), so that the scorer imports its
backends and never the reverse.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import torch
    from PIL import Image

BACKENDS = ("transformers", "open_clip")


class ModelUnavailable(RuntimeError):
    """A model that cannot be loaded here; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class ClipSpec:
    """Which model to load and how (hashable: one loaded model per spec and process)."""

    model: str
    backend: str = "transformers"
    pretrained: str = ""  # open_clip only: a pretrained tag or a local checkpoint file
    allow_download: bool = False
    trust_remote_code: bool = False


class Backend(Protocol):
    """What a backend provides: per-image preprocessing and batched feature extraction."""

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """One RGB image to a (C, H, W) float tensor."""
        ...

    def encode_images(self, pixels: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) pixels to (N, D) image features."""
        ...

    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        """N texts to (N, D) text features."""
        ...


@contextmanager
def hub_offline(enabled: bool = True) -> Iterator[None]:
    """Make the Hugging Face Hub client refuse network access for a while (so a missing model fails fast)."""
    if not enabled:
        yield
        return
    from huggingface_hub import constants

    # huggingface_hub reads HF_HUB_OFFLINE once at import, so the module constant is what counts
    old_env, old_const = os.environ.get("HF_HUB_OFFLINE"), constants.HF_HUB_OFFLINE
    os.environ["HF_HUB_OFFLINE"] = "1"
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = old_const
        if old_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = old_env

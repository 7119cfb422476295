"""Image-text scorer client: cosine similarity of CLIP image and text features, batched, on CPU.

The model comes from a backend (`clip_backends`: transformers or open_clip), by hub name or local
path. Nothing is downloaded unless the spec allows it: a hub name must already be in the local
Hugging Face cache. `check_scorer` loads the model once, before work starts, and turns every way
loading can fail here into `ModelUnavailable` with a message that says what to do.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from PIL import Image, ImageOps

from polyvlm.clients.clip_backends import load_backend
from polyvlm.clients.clip_spec import BACKENDS, Backend, ClipSpec, ModelUnavailable

if TYPE_CHECKING:
    import torch


class UnloadableImage(ValueError):
    """Image bytes the scorer's preprocessor cannot turn into pixels."""


def open_rgb(data: bytes | None) -> Image.Image:
    """Decode image bytes into an EXIF-rotated RGB image; raises UnloadableImage."""
    if not data:
        raise UnloadableImage("the image holds no bytes (fetch/decode it first)")
    try:
        with Image.open(io.BytesIO(data)) as im:
            return ImageOps.exif_transpose(im).convert("RGB")
    except Exception as e:  # noqa: BLE001 — PIL raises many types for bad bytes (incl. decompression bombs)
        raise UnloadableImage(f"{type(e).__name__}: {e}") from e


class ImageTextScorer:
    """Cosine similarity in [-1, 1] between an image's and a text's normalised features."""

    def __init__(self, spec: ClipSpec, backend: Backend) -> None:
        self.spec = spec
        self.backend = backend

    def prepare(self, data: bytes | None) -> torch.Tensor:
        """Image bytes to the model's pixel tensor; raises UnloadableImage."""
        image = open_rgb(data)
        try:
            return self.backend.preprocess(image)
        except Exception as e:  # noqa: BLE001 — a preprocessor may reject odd sizes or modes
            raise UnloadableImage(f"preprocessor: {type(e).__name__}: {e}") from e

    def score(self, pixels: Sequence[torch.Tensor], texts: Sequence[str]) -> list[float]:
        """One cosine similarity per (image, text) pair, computed in one batch."""
        import torch
        import torch.nn.functional as F

        if len(pixels) != len(texts):
            raise ValueError(f"{len(pixels)} images for {len(texts)} texts")
        if not texts:
            return []
        with torch.inference_mode():
            img = F.normalize(self.backend.encode_images(torch.stack(list(pixels))).float(), dim=-1)
            txt = F.normalize(self.backend.encode_texts(list(texts)).float(), dim=-1)
            sims = (img * txt).sum(dim=-1).clamp(-1.0, 1.0)
        return [float(s) for s in sims]

    def similarity_matrix(self, pixels: Sequence[torch.Tensor], texts: Sequence[str]) -> list[list[float]]:
        """Cosine similarity of every image with every text: rows are images, columns texts."""
        import torch
        import torch.nn.functional as F

        if not pixels or not texts:
            return [[] for _ in pixels]
        with torch.inference_mode():
            img = F.normalize(self.backend.encode_images(torch.stack(list(pixels))).float(), dim=-1)
            txt = F.normalize(self.backend.encode_texts(list(texts)).float(), dim=-1)
            sims = (img @ txt.T).clamp(-1.0, 1.0)
        return sims.tolist()


def _load(spec: ClipSpec) -> ImageTextScorer:
    if spec.backend not in BACKENDS:
        raise ModelUnavailable(f"unknown CLIP backend {spec.backend!r}; valid choices: {', '.join(BACKENDS)}")
    return ImageTextScorer(spec, load_backend(spec))


@lru_cache(maxsize=4)
def load_scorer(spec: ClipSpec) -> ImageTextScorer:
    """The scorer of a spec, loaded once per process (call it in a worker's setup)."""
    return _load(spec)


def check_scorer(spec: ClipSpec) -> None:
    """Load the model once and let it go; raises ModelUnavailable with what to do."""
    # not cached: the driver's copy would be forked into workers with torch's thread pools
    _load(spec)

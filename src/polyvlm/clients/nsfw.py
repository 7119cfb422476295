"""NSFW client: NudeNet's shipped ONNX detector turned into one score in [0, 1] per image.

The score of an image is the highest confidence among NudeNet's detections of the classes in
`EXPOSED_CLASSES` (exposed genitalia, female breasts, buttocks, anus), 0.0 when there is none.
NudeNet reports a detection only from confidence 0.25 up (its own NMS floor), so scores below that
read 0.0. Covered body parts, faces, feet, armpits, belly and the male chest do not count.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageOps

EXPOSED_CLASSES = frozenset(
    {
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "FEMALE_BREAST_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    }
)
INPUT_SIZE = 320  # the shipped 320n.onnx model's input side


class UnreadableImage(ValueError):
    """Image bytes that cannot be decoded."""


def nsfw_score(detections: Iterable[dict[str, Any]]) -> float:
    """The highest confidence among detections of exposed-body classes (0.0 when none)."""
    return max((float(d["score"]) for d in detections if d["class"] in EXPOSED_CLASSES), default=0.0)


def decode_bgr(data: bytes) -> np.ndarray:
    """Decode image bytes (EXIF-rotated, any mode) into the uint8 BGR array NudeNet reads from files."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            # JPEG draft mode decodes at a reduced scale still >= the model's input: much faster, same input
            im.draft("RGB", (INPUT_SIZE, INPUT_SIZE))
            rgb = ImageOps.exif_transpose(im).convert("RGB")
    except Exception as e:  # noqa: BLE001 — PIL raises many types for bad bytes (incl. decompression bombs)
        raise UnreadableImage(f"{type(e).__name__}: {e}") from e
    # cv2.imread gives BGR and NudeNet's preprocessing expects exactly that channel order
    return np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])


@lru_cache(maxsize=1)
def _shipped_detector() -> Any:
    """The detector with the ONNX model inside the nudenet wheel, loaded once per process."""
    from nudenet import NudeDetector

    return NudeDetector()


class NsfwDetector:
    """Scores images with NudeNet's shipped detector (no download, CPU)."""

    def __init__(self) -> None:
        self._detector = _shipped_detector()

    def score_arrays(self, images: Sequence[np.ndarray], batch_size: int = 16) -> list[float]:
        """One score per decoded BGR image, in order."""
        if not images:
            return []
        detections = self._detector.detect_batch(list(images), batch_size=batch_size)
        return [nsfw_score(d) for d in detections]

    def score_bytes(self, data: bytes) -> float:
        """The score of one encoded image; raises UnreadableImage."""
        return self.score_arrays([decode_bgr(data)])[0]


def check_detector() -> None:
    """Load a detector now, so a broken nudenet/onnxruntime install stops a run before work starts."""
    from nudenet import NudeDetector

    # a throwaway instance, not the cached one: an ONNX session's threads do not survive a fork into workers
    NudeDetector()

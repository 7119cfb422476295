"""nsfw_filter: score every image with NudeNet's shipped detector, keep the score, drop above a threshold."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from polyvlm.clients.nsfw import NsfwDetector, UnreadableImage, check_detector, decode_bgr
from polyvlm.core.records import Record
from polyvlm.core.step import BatchParams, BatchStep, Drop, register


class NsfwFilterParams(BatchParams):
    """Parameters of nsfw_filter."""

    threshold: float = 0.5
    """drop a record when any of its images scores above this (scores are in [0, 1])"""
    batch_size: int = Field(16, ge=1)
    """images per detector call"""
    score_name: str = "nsfw"
    """key of the score in image.scores"""


@register
class NsfwFilter(BatchStep):
    """Score images with NudeNet (highest exposed-body confidence) into image.scores; drop above threshold."""

    name = "nsfw_filter"
    Params = NsfwFilterParams

    def check(self) -> None:
        check_detector()

    def setup(self) -> None:
        self._detector = NsfwDetector()

    def _decode(self, record: Record) -> list[np.ndarray] | Drop:
        arrays: list[np.ndarray] = []
        for k, im in enumerate(record.images):
            if not im.data:
                return Drop("no_image_data", f"image {k} holds no bytes (fetch/decode it first)")
            try:
                arrays.append(decode_bgr(im.data))
            except UnreadableImage as e:
                return Drop("undecodable_image", f"image {k}: {e}")
        return arrays

    def apply_batch(self, records: list[Record]) -> list[Record | Drop]:
        decoded = [self._decode(r) for r in records]
        flat = [a for d in decoded if not isinstance(d, Drop) for a in d]
        scores = iter(self._detector.score_arrays(flat, self.params.batch_size))
        out: list[Record | Drop] = []
        for record, d in zip(records, decoded, strict=True):
            if isinstance(d, Drop):
                out.append(d)
                continue
            worst = None
            for im in record.images:
                im.scores[self.params.score_name] = score = next(scores)
                worst = score if worst is None else max(worst, score)
            # a record without images has nothing to judge and passes
            if worst is not None and worst > self.params.threshold:
                out.append(Drop("nsfw", f"{self.params.score_name}={worst:.4f} > {self.params.threshold}"))
            else:
                out.append(record)
        return out

"""nsfw_filter: score every image with NudeNet's shipped detector, keep the score, drop images above a threshold."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from polyvlm.clients.nsfw import NsfwDetector, UnreadableImage, check_detector, decode_bgr
from polyvlm.core.records import ImageRef, Record
from polyvlm.core.step import BatchParams, BatchStep, Drop, register
from polyvlm.image.image_drops import apply_verdicts, image_drop_metrics


class NsfwFilterParams(BatchParams):
    """Parameters of nsfw_filter."""

    threshold: float = 0.5
    """an image scoring above this goes: a pair or sample is dropped, a document loses the image (scores in [0, 1])"""
    batch_size: int = Field(16, ge=1)
    """images per detector call"""
    score_name: str = "nsfw"
    """key of the score in image.scores"""


@register
class NsfwFilter(BatchStep):
    """Score images with NudeNet (highest exposed-body confidence) into image.scores; drop images above threshold."""

    name = "nsfw_filter"
    Params = NsfwFilterParams

    def check(self) -> None:
        check_detector()

    def setup(self) -> None:
        self._detector = NsfwDetector()

    def metrics(self) -> dict[str, float]:
        return image_drop_metrics(self)

    def _decode(self, image: ImageRef) -> np.ndarray | Drop:
        if not image.data:
            return Drop("no_image_data", "holds no bytes (fetch/decode it first)")
        try:
            return decode_bgr(image.data)
        except UnreadableImage as e:
            return Drop("undecodable_image", str(e))

    def apply_batch(self, records: list[Record]) -> list[Record | Drop]:
        decoded = [[self._decode(im) for im in r.images] for r in records]
        flat = [a for d in decoded for a in d if not isinstance(a, Drop)]
        scores = iter(self._detector.score_arrays(flat, self.params.batch_size))
        out: list[Record | Drop] = []
        name, threshold = self.params.score_name, self.params.threshold
        for record, arrays in zip(records, decoded, strict=True):
            verdicts: dict[int, Drop] = {}
            for k, (im, a) in enumerate(zip(record.images, arrays, strict=True)):
                if isinstance(a, Drop):
                    verdicts[k] = a
                    continue
                im.scores[name] = score = next(scores)
                if score > threshold:
                    verdicts[k] = Drop("nsfw", f"{name}={score:.4f} > {threshold}")
            # a record without images has nothing to judge and passes
            out.append(apply_verdicts(record, verdicts, self))
        return out

"""clip_score: CLIP image-text cosine similarity of each pair, written to image.scores (no dropping here)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from polyvlm.clients.clip import ClipSpec, ModelUnavailable, UnloadableImage, check_scorer, load_scorer
from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Pair, Record
from polyvlm.core.step import BatchParams, BatchStep, Drop, register


class ClipScoreParams(BatchParams):
    """Parameters of clip_score."""

    model: str
    """hub name (must be in the local Hugging Face cache) or local directory; open_clip also takes hf-hub:NAME"""
    backend: Literal["transformers", "open_clip"] = "transformers"
    """library that loads the model"""
    pretrained: str = ""
    """open_clip only, with an architecture name as model: a pretrained tag or a checkpoint file"""
    batch_size: int = Field(32, ge=1)
    """pairs per model call"""
    score_name: str = "clip"
    """key of the score in image.scores"""
    allow_download: bool = False
    """let the hub client download a model that is not cached (off: a missing model stops the run at once)"""
    trust_remote_code: bool = False
    """transformers only: run the model repository's own code (some Japanese CLIPs need it)"""


@register
class ClipScore(BatchStep):
    """Score each pair's image against its text with a CLIP model (cosine in [-1, 1]) into image.scores."""

    name = "clip_score"
    Params = ClipScoreParams

    def _spec(self) -> ClipSpec:
        p = self.params
        return ClipSpec(p.model, p.backend, p.pretrained, p.allow_download, p.trust_remote_code)

    def check(self) -> None:
        try:
            check_scorer(self._spec())
        except ModelUnavailable as e:
            raise RecipeError(f"step {self.label}: {e}") from None

    def setup(self) -> None:
        self._scorer = load_scorer(self._spec())

    def apply_batch(self, records: list[Record]) -> list[Record | Drop]:
        out: list[Record | Drop] = []
        pixels, texts, scored = [], [], []
        for record in records:
            if not isinstance(record, Pair):
                out.append(Drop("not_a_pair", f"clip_score scores pairs, got a {record.kind}"))
                continue
            try:
                pixels.append(self._scorer.prepare(record.image.data))
            except UnloadableImage as e:
                out.append(Drop("clip_unloadable_image", str(e)[:500]))
                continue
            texts.append(record.text)
            scored.append(record)
            out.append(record)
        for record, score in zip(scored, self._scorer.score(pixels, texts), strict=True):
            record.image.scores[self.params.score_name] = score
        return out

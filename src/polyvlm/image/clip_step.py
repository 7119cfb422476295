"""clip_score: CLIP image-text cosine similarity of each pair (or each document image and its alt text) into image.scores.

No score cut here (score_percentile, or the document rules, do that). A document's full image × sentence
matrix is another step's job (image_sentence_similarity).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from polyvlm.clients.clip import ClipSpec, ModelUnavailable, UnloadableImage, check_scorer, load_scorer
from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Document, ImageRef, Pair, Record
from polyvlm.core.step import BatchParams, BatchStep, Drop, register
from polyvlm.image.image_drops import apply_verdicts, image_drop_metrics


class ClipScoreParams(BatchParams):
    """Parameters of clip_score."""

    model: str
    """hub name (must be in the local Hugging Face cache) or local directory; open_clip also takes hf-hub:NAME"""
    backend: Literal["transformers", "open_clip"] = "transformers"
    """library that loads the model"""
    pretrained: str = ""
    """open_clip only, with an architecture name as model: a pretrained tag or a checkpoint file"""
    batch_size: int = Field(32, ge=1)
    """records per model call"""
    score_name: str = "clip"
    """key of the score in image.scores"""
    allow_download: bool = False
    """let the hub client download a model that is not cached (off: a missing model stops the run at once)"""
    trust_remote_code: bool = False
    """transformers only: run the model repository's own code (some Japanese CLIPs need it)"""


@register
class ClipScore(BatchStep):
    """Score each pair's image against its text (a document's images against their alt texts) with CLIP into image.scores."""

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

    def metrics(self) -> dict[str, float]:
        return image_drop_metrics(self)

    def apply_batch(self, records: list[Record]) -> list[Record | Drop]:
        verdicts: list[dict[int, Drop]] = [{} for _ in records]
        pixels, texts, scored = [], [], []
        for i, record in enumerate(records):
            for k, (image, text) in enumerate(_scored_texts(record)):
                if text is None:
                    continue  # a document image without alt text has no text of its own to be scored with
                try:
                    pixels.append(self._scorer.prepare(image.data))
                except UnloadableImage as e:
                    verdicts[i][k] = Drop("clip_unloadable_image", str(e)[:500])
                    continue
                texts.append(text)
                scored.append(image)
        for image, score in zip(scored, self._scorer.score(pixels, texts), strict=True):
            image.scores[self.params.score_name] = score
        out: list[Record | Drop] = []
        for record, v in zip(records, verdicts, strict=True):
            if isinstance(record, Pair | Document):
                out.append(apply_verdicts(record, v, self))
            else:
                out.append(
                    Drop("not_scorable", f"clip_score scores pairs and documents, got a {record.kind}")
                )
        return out


def _scored_texts(record: Record) -> list[tuple[ImageRef, str | None]]:
    """Each image with the text it is scored against: a pair's text, a document image's alt text (or None)."""
    if isinstance(record, Pair):
        return [(record.image, record.text)]
    if isinstance(record, Document):
        return [(im, im.alt.strip() or None) for im in record.images]
    return []

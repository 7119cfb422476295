"""clip_score: CLIP image-text cosine similarity of each pair (or each document image and its alt text) into image.scores.

No score cut here (score_percentile, or the document rules, do that). A document's full image × sentence
matrix is another step's job (image_sentence_similarity).
"""

from __future__ import annotations

from pydantic import Field

from polyvlm.clients.clip import UnloadableImage, load_scorer
from polyvlm.core.records import Document, ImageRef, Pair, Record
from polyvlm.core.step import BatchStep, Drop, register
from polyvlm.image.clip_model_params import ClipModelParams, check_clip_model
from polyvlm.image.image_drops import apply_verdicts, image_drop_metrics


class ClipScoreParams(ClipModelParams):
    """Parameters of clip_score."""

    batch_size: int = Field(32, ge=1)
    """records per model call"""
    score_name: str = "clip"
    """key of the score in image.scores"""


@register
class ClipScore(BatchStep):
    """Score each pair's image against its text (a document's images against their alt texts) with CLIP into image.scores."""

    name = "clip_score"
    Params = ClipScoreParams

    def check(self) -> None:
        check_clip_model(self.label, self.params)

    def setup(self) -> None:
        self._scorer = load_scorer(self.params.clip_spec())

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

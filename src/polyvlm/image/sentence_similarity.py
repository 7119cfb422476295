"""image_sentence_similarity: the full CLIP matrix of each document's images × sentences; images with no good sentence go.

The matrix is kept in `metadata["similarity_matrix"]` (a row per remaining image, a column per sentence of
`Document.texts`), as mmc4 publishes it; `assign_images` then places each image at a sentence. An image
whose best sentence scores below `min_similarity` (the paper's 0.20) leaves the document, counted.
"""

from __future__ import annotations

from pydantic import Field

from polyvlm.clients.clip import UnloadableImage, load_scorer
from polyvlm.core.records import Document, Record
from polyvlm.core.step import BatchStep, Drop, register
from polyvlm.image.clip_model_params import ClipModelParams, check_clip_model
from polyvlm.image.image_drops import SIMILARITY_MATRIX, apply_verdicts, image_drop_metrics


class ImageSentenceSimilarityParams(ClipModelParams):
    """Parameters of image_sentence_similarity."""

    min_similarity: float = 0.20
    """an image whose most similar sentence scores below this leaves the document (low_sentence_similarity)"""
    batch_size: int = Field(8, ge=1)
    """documents per apply_batch call (each document is one model call: its images and its sentences)"""


@register
class ImageSentenceSimilarity(BatchStep):
    """CLIP similarity of every image with every sentence of a document; drop images whose best sentence is too far."""

    name = "image_sentence_similarity"
    Params = ImageSentenceSimilarityParams

    def check(self) -> None:
        check_clip_model(
            self.label,
            self.params,
            ". Without a CLIP model, place images where the page has them (the dom placement mode: the step "
            "dom_placement instead of image_sentence_similarity and assign_images)",
        )

    def setup(self) -> None:
        self._scorer = load_scorer(self.params.clip_spec())

    def metrics(self) -> dict[str, float]:
        return image_drop_metrics(self)

    def apply_batch(self, records: list[Record]) -> list[Record | Drop]:
        return [self._document(r) for r in records]

    def _document(self, record: Record) -> Record | Drop:
        if not isinstance(record, Document):
            return Drop("not_a_document", f"image_sentence_similarity takes documents, got a {record.kind}")
        verdicts: dict[int, Drop] = {}
        pixels, rows = [], []
        for k, image in enumerate(record.images):
            if not record.texts:
                verdicts[k] = Drop("no_sentence_to_match", "the document has no sentences")
                continue
            try:
                pixels.append(self._scorer.prepare(image.data))
                rows.append(k)
            except UnloadableImage as e:
                verdicts[k] = Drop("clip_unloadable_image", str(e)[:500])
        matrix = self._scorer.similarity_matrix(pixels, record.texts) if pixels else []
        full: list[list[float]] = [[] for _ in record.images]
        threshold = self.params.min_similarity
        for k, row in zip(rows, matrix, strict=True):
            full[k] = row
            best = max(row)
            if best < threshold:
                verdicts[k] = Drop("low_sentence_similarity", f"best sentence {best:.4f} < {threshold}")
        record.metadata[SIMILARITY_MATRIX] = full  # apply_verdicts removes the rows of images that leave
        return apply_verdicts(record, verdicts, self)

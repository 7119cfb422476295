"""min_assigned_similarity: a document rule — every image's similarity with its assigned sentence is at least a floor."""

from __future__ import annotations

from polyvlm.core.records import Document, Record
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.image.assign_images import MATCHED_SIM, PLACEMENT


class MinAssignedSimilarityParams(Params):
    """Parameters of min_assigned_similarity."""

    min_similarity: float = 0.20
    """a document with an assigned (image, sentence) pair below this goes (low_assigned_similarity)"""


@register
class MinAssignedSimilarity(MapStep):
    """Drop documents in which an image's similarity with its assigned sentence is below min_similarity."""

    name = "min_assigned_similarity"
    Params = MinAssignedSimilarityParams

    def apply(self, record: Record) -> Record | Drop:
        if not isinstance(record, Document):
            return Drop("not_a_document")
        if record.metadata.get(PLACEMENT) != "assigned":
            # dom placement has no similarities: listing this rule there is a recipe mistake, said per record
            return Drop("not_assigned", "run image_sentence_similarity and assign_images before this rule")
        floor = self.params.min_similarity
        for k, image in enumerate(record.images):
            sim = image.scores.get(MATCHED_SIM)
            if sim is None or sim < floor:
                return Drop(
                    "low_assigned_similarity", f"image {k}: {sim if sim is None else round(sim, 4)} < {floor}"
                )
        return record

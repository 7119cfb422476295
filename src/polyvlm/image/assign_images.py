"""assign_images and dom_placement: where each image of a document stands among its sentences.

Both set `ImageRef.segment_index` to the index of the sentence the image goes before (len(texts): after
the last one) and `metadata["placement"]` to the mode, which the writers and the document rules read:

- `assigned` (assign_images): linear assignment on the CLIP matrix of image_sentence_similarity, with
  MMC4's semantics (image/assignment.py); each image's similarity with its sentence goes to
  `image.scores["matched_sim"]`.
- `dom` (dom_placement): the images stay where they stood in the page (OBELICS-style), as extract_html
  and split_sentences placed them; no model, no similarity. A recipe states this mode by listing the step.
"""

from __future__ import annotations

from polyvlm.core.records import Document, Record
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.image.assignment import assign_images
from polyvlm.image.image_drops import SIMILARITY_MATRIX, apply_verdicts, image_drop_metrics

PLACEMENT = "placement"  # metadata key: "assigned" or "dom"
MATCHED_SIM = "matched_sim"  # image.scores key: similarity of an assigned image with its sentence


class AssignImagesParams(Params):
    """Parameters of assign_images (none: the similarity threshold is image_sentence_similarity's)."""


@register
class AssignImages(MapStep):
    """Place each image before the sentence linear assignment gives it (MMC4 semantics); needs image_sentence_similarity."""

    name = "assign_images"
    Params = AssignImagesParams

    def apply(self, record: Record) -> Record | Drop:
        if not isinstance(record, Document):
            return Drop("not_a_document", f"assign_images places a document's images, got a {record.kind}")
        matrix = record.metadata.get(SIMILARITY_MATRIX)
        if not isinstance(matrix, list) or len(matrix) != len(record.images):
            return Drop("no_similarity_matrix", "run image_sentence_similarity before assign_images")
        if record.images:
            if any(len(row) != len(record.texts) for row in matrix):
                return Drop("no_similarity_matrix", "the matrix does not match the document's sentences")
            for image, row, j in zip(record.images, matrix, assign_images(matrix), strict=True):
                image.segment_index = j
                image.scores[MATCHED_SIM] = row[j]
        record.metadata[PLACEMENT] = "assigned"
        return record


class DomPlacementParams(Params):
    """Parameters of dom_placement (none)."""


@register
class DomPlacement(MapStep):
    """State the dom placement mode: images stay where the page had them (no CLIP model, no assignment)."""

    name = "dom_placement"
    Params = DomPlacementParams

    def apply(self, record: Record) -> Record | Drop:
        if not isinstance(record, Document):
            return Drop("not_a_document", f"dom_placement places a document's images, got a {record.kind}")
        n = len(record.texts)
        verdicts = {
            k: Drop("outside_main_text", f"segment_index {image.segment_index} not in 0..{n}")
            for k, image in enumerate(record.images)
            if image.segment_index is None or not 0 <= image.segment_index <= n
        }
        record.metadata[PLACEMENT] = "dom"
        return apply_verdicts(record, verdicts, self)

    def metrics(self) -> dict[str, float]:
        return image_drop_metrics(self)

"""pair_qa: QA about the image of an image-text pair, written by a VLM shown the image and its alt text.

Jagle's image-text-pair source: the alt text (or caption) is context the model may use; an answer that
quotes words the alt text does not have is dropped (answer_not_in_alt_text). Numbers are not checked:
the image itself may show them.
"""

from __future__ import annotations

from polyvlm.core.records import ImageRef, Pair, Record, Sample, qa_messages
from polyvlm.core.step import Drop, register
from polyvlm.synth.categories import TASK_CATEGORY
from polyvlm.synth.grounded_qa import GroundedQa, GroundedQaParams


@register
class PairQa(GroundedQa):
    """Ask a VLM for QA about each pair's image with its alt text as grounding; a sample per pair (task pair_qa)."""

    name = "pair_qa"
    Params = GroundedQaParams
    prompt_names = ("pair_qa",)
    drop_reason = "answer_not_in_alt_text"
    check_numbers = False

    def wants(self, record: Record) -> bool:
        return isinstance(record, Pair)

    def image_and_context(self, record: Record) -> tuple[ImageRef, str]:
        assert isinstance(record, Pair)
        return record.image, record.text

    def parse(self, record: Record, text: str) -> Sample | Drop:
        assert isinstance(record, Pair)
        pairs = self.checked_pairs(record, text)
        if isinstance(pairs, Drop):
            return pairs
        return Sample(
            id=record.id,
            images=[record.image],
            messages=qa_messages(pairs),
            task="pair_qa",
            metadata={"alt_text": record.text, "page_url": record.url, "category": TASK_CATEGORY["pair_qa"]},
            provenance=record.provenance,
        )

"""photo_text_qa: photo QA for photos with text in them (signs, labels), grounded in the text scene_text read.

The photo and its scene text go to a VLM, which asks about what is written and what it means there;
an answer quoting words the OCR did not read is dropped (answer_not_in_scene_text). Photos without
scene text pass on untouched, to photo_qa.
"""

from __future__ import annotations

from polyvlm.core.records import ImageRef, Record, Sample
from polyvlm.core.step import Drop, register
from polyvlm.synth.grounded_qa import GroundedQa, GroundedQaParams


@register
class PhotoTextQa(GroundedQa):
    """Ask a VLM about the text in each photo that has scene text (task photo_text_qa); quotes are checked."""

    name = "photo_text_qa"
    Params = GroundedQaParams
    prompt_names = ("photo_text_qa",)
    drop_reason = "answer_not_in_scene_text"
    check_numbers = False  # the OCR may miss a number the model reads correctly

    def wants(self, record: Record) -> bool:
        return (
            isinstance(record, Sample)
            and record.task in ("photo", "")
            and not record.messages
            and bool(record.metadata.get("scene_text"))
        )

    def image_and_context(self, record: Record) -> tuple[ImageRef, str]:
        assert isinstance(record, Sample)
        lines = record.metadata.get("scene_text") or []
        return (record.images[0] if record.images else ImageRef()), "\n".join(ln["text"] for ln in lines)

    def parse(self, record: Record, text: str) -> Sample | Drop:
        assert isinstance(record, Sample)
        return self.sample_with_qa(record, text, "photo_text_qa")

"""page_qa: reading, layout, table and chart questions about a PDF page, written by a VLM shown the page and its text layer.

Jagle's PDF source: a page image (read_pdf) goes to a vision-language model with the page's text layer
as grounding; answers quoting or citing numbers absent from the text layer are dropped
(answer_not_in_text_layer), so what is kept can be checked against the document.
"""

from __future__ import annotations

from polyvlm.core.records import ImageRef, Record, Sample
from polyvlm.core.step import Drop, register
from polyvlm.synth.grounded_qa import GroundedQa, GroundedQaParams


@register
class PageQa(GroundedQa):
    """Ask a VLM for QA about each PDF page (task pdf_page), grounded in its text layer; contradicted answers drop it."""

    name = "page_qa"
    Params = GroundedQaParams
    prompt_names = ("page_qa",)
    drop_reason = "answer_not_in_text_layer"

    def wants(self, record: Record) -> bool:
        return isinstance(record, Sample) and record.task == "pdf_page" and not record.messages

    def image_and_context(self, record: Record) -> tuple[ImageRef, str]:
        assert isinstance(record, Sample)  # wants() let only pages through
        image = record.images[0] if record.images else ImageRef()
        return image, str(record.metadata.get("text") or "")

    def parse(self, record: Record, text: str) -> Sample | Drop:
        assert isinstance(record, Sample)
        return self.sample_with_qa(record, text, "page_qa")

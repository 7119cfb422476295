"""The shape of the QA generators that show a VLM an image with the text that grounds it (page_qa, pair_qa).

The request carries the image and the prompt file's text with `{context}` replaced by the grounding text
(cut to max_context_chars). Every answer is checked against that text (synth/grounding.py); a sample
with an answer the text contradicts is dropped with the rule's reason, whatever the model wrote else.
"""

from __future__ import annotations

from pydantic import Field

from polyvlm.clients.chat import ChatRequest
from polyvlm.core.records import ImageRef, Record, Sample, qa_messages
from polyvlm.core.step import Drop
from polyvlm.synth.categories import set_category
from polyvlm.synth.generator_step import GeneratorParams, GeneratorStep
from polyvlm.synth.grounding import ungrounded
from polyvlm.synth.image_payload import image_bytes, image_data_url
from polyvlm.synth.qa_blocks import QAPairs, parse_qa_blocks


class GroundedQaParams(GeneratorParams):
    """Parameters every grounded QA generator has."""

    min_pairs: int = Field(1, ge=1)
    """fewer question-answer pairs than this drop the sample (bad_output:too_few_pairs)"""
    max_image_side: int = Field(1536, ge=64)
    """a larger image is sent as a JPEG scaled down to this many pixels on its long side"""
    max_context_chars: int = Field(4000, ge=100)
    """grounding text sent with the image, at most (the checks use the same text)"""


class GroundedQa(GeneratorStep):
    """A generator asking about an image with its grounding text; answers that text contradicts drop the sample."""

    drop_reason = "answer_not_grounded"  # a subclass names its source: answer_not_in_text_layer
    check_numbers = True

    def setup(self) -> None:
        super().setup()
        self.prompt_of(Sample(id="")).get("prompt")  # a prompt file without its text stops the run in check()

    def image_and_context(self, record: Record) -> tuple[ImageRef, str]:
        """The image to show and the text that grounds it."""
        raise NotImplementedError

    def request(self, record: Record) -> ChatRequest | Drop:
        image, context = self.image_and_context(record)
        if not context.strip():
            return Drop("no_grounding_text")
        data = image_bytes(image)
        if isinstance(data, Drop):
            return data
        url = image_data_url(data, self.params.max_image_side)
        if isinstance(url, Drop):
            return url
        prompt = self.prompt_of(record)
        text = prompt.get("prompt").strip().replace("{context}", context[: self.params.max_context_chars])
        system = (prompt.data.get("system") or "").strip()
        content = [{"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": text}]
        return ChatRequest(
            ([{"role": "system", "content": system}] if system else [])
            + [{"role": "user", "content": content}]
        )

    def checked_pairs(self, record: Record, text: str) -> QAPairs | Drop:
        """The answer's pairs, or why the sample goes: unparsable, too few, or contradicted by the context."""
        pairs = parse_qa_blocks(text)
        if isinstance(pairs, str):
            return Drop(f"bad_output:{pairs}", text[:200])
        if len(pairs) < self.params.min_pairs:
            return Drop("bad_output:too_few_pairs", f"{len(pairs)} < {self.params.min_pairs}")
        context = self.image_and_context(record)[1][: self.params.max_context_chars]
        for question, answer in pairs:
            why = ungrounded(answer, context, numbers=self.check_numbers)
            if why:
                return Drop(self.drop_reason, f"{why} (Q: {question[:80]})")
        return pairs

    def sample_with_qa(self, record: Sample, text: str, task: str) -> Sample | Drop:
        """The sample itself, its first image kept, now holding the checked QA as a conversation of `task`."""
        pairs = self.checked_pairs(record, text)
        if isinstance(pairs, Drop):
            return pairs
        record.images = record.images[:1]
        record.messages = qa_messages(pairs)
        record.task = task
        return set_category(record)

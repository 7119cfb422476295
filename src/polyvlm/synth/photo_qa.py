"""photo_qa: multi-turn QA about a photo, written by a vision-language model that sees it (Q:/A: blocks)."""

from __future__ import annotations

from pydantic import Field

from polyvlm.clients.chat import ChatRequest
from polyvlm.core.records import Record, Sample, qa_messages
from polyvlm.core.step import Drop, register
from polyvlm.synth.categories import set_category
from polyvlm.synth.generator_step import GeneratorParams, GeneratorStep
from polyvlm.synth.image_payload import image_bytes, image_data_url
from polyvlm.synth.qa_blocks import parse_qa_blocks


class PhotoQaParams(GeneratorParams):
    """Parameters of photo_qa."""

    min_pairs: int = Field(1, ge=1)
    """fewer question-answer pairs than this drop the sample (bad_output:too_few_pairs)"""
    max_image_side: int = Field(1536, ge=64)
    """a larger image is sent as a JPEG scaled down to this many pixels on its long side"""


@register
class PhotoQa(GeneratorStep):
    """Ask a VLM for question-answer pairs about each photo (task photo); parse Q:/A: blocks into a conversation."""

    name = "photo_qa"
    Params = PhotoQaParams
    prompt_names = ("photo_qa",)

    def setup(self) -> None:
        super().setup()
        self._prompts["photo_qa"].get("prompt")  # a prompt file without its text stops the run in check()

    def wants(self, record: Record) -> bool:
        # a photo without a conversation yet: from read_images, or a sample of no particular task
        return isinstance(record, Sample) and record.task in ("photo", "") and not record.messages

    def request(self, record: Record) -> ChatRequest | Drop:
        assert isinstance(record, Sample)  # wants() let only samples through
        if not record.images:
            return Drop("no_image")
        data = image_bytes(record.images[0])
        if isinstance(data, Drop):
            return data
        url = image_data_url(data, self.params.max_image_side)
        if isinstance(url, Drop):
            return url
        prompt = self.prompt_of(record)
        content = [
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "text", "text": prompt.get("prompt").strip()},
        ]
        system = (prompt.data.get("system") or "").strip()
        return ChatRequest(
            ([{"role": "system", "content": system}] if system else [])
            + [{"role": "user", "content": content}]
        )

    def parse(self, record: Record, text: str) -> Sample | Drop:
        assert isinstance(record, Sample)  # request() let only samples through
        pairs = parse_qa_blocks(text)
        if isinstance(pairs, str):
            return Drop(f"bad_output:{pairs}", text[:200])
        if len(pairs) < self.params.min_pairs:
            return Drop("bad_output:too_few_pairs", f"{len(pairs)} < {self.params.min_pairs}")
        record.images = record.images[:1]  # the conversation has one <image> marker: the image shown
        record.messages = qa_messages(pairs)
        record.task = "photo_qa"
        return set_category(record)

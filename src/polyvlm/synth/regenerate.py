"""regenerate: rewrite the answers or captions of a corpus with a permissively licensed model (Multi-PixMo).

The rewritten corpus is no longer bound by the terms of the model that first wrote it; what it carries
instead is its source dataset's licence (provenance.license) and the new model's licence
(metadata["generator_license"]), which license_filter checks. Translation comes after, as its own step.
"""

from __future__ import annotations

from pydantic import Field

from polyvlm.clients.chat import ChatRequest
from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Pair, Record, Sample
from polyvlm.core.step import Drop, register
from polyvlm.synth.chat_failures import unusable
from polyvlm.synth.chat_step import ChatStep, ChatStepParams
from polyvlm.synth.generated_by import add_generator
from polyvlm.synth.image_payload import image_bytes, image_data_url
from polyvlm.synth.placeholders import strip_media
from polyvlm.synth.text_slots import Slot, originals, record_slots, set_slot


class RegenerateParams(ChatStepParams):
    """Parameters of regenerate (and client, whose `license` is required, prompt_dir, batch_size)."""

    prompt: str = "regenerate"
    """prompt name: prompts/<prompt_language>/<prompt>.system.txt and .user.txt, with {context} {original}"""
    prompt_language: str = "en"
    """language folder of the prompt (the corpus being regenerated is English in Multi-PixMo)"""
    roles: list[str] = ["assistant"]
    """roles of a Sample's messages that are rewritten"""
    text: bool = True
    """rewrite a Pair's text (a caption)"""
    metadata_keys: list[str] = []
    """metadata fields (a string or a list of strings) rewritten too, e.g. a caption"""
    min_chars: int = Field(20, ge=0)
    """texts shorter than this (an option letter, a number, yes/no) are kept as they are"""
    source_license: str = ""
    """the source dataset's licence (SPDX), set on records whose provenance.license is empty"""
    with_images: bool = False
    """send the record's images (bytes held or a local path) to the model too, for a vision model"""
    max_image_side: int = Field(1536, ge=64)
    """with_images: a larger image is sent as a JPEG scaled down to this many pixels on its long side"""
    keep_original: bool = True
    """keep the replaced texts in metadata["regenerated_from"]"""


def _context(record: Record, slot: Slot) -> str:
    """The conversation before a message ("User: ..." lines), or what kind of text a caption is."""
    if isinstance(record, Sample) and slot.where[0] == "message":
        turns = record.messages[: slot.where[1]]
        lines = [f"{m.role.capitalize()}: {strip_media(m.content).strip()}" for m in turns]
        return "\n".join(lines) or "(none)"
    return "(none: the text is a description of an image)"


def image_parts(record: Record, max_side: int) -> list[dict] | Drop:
    """OpenAI image_url content parts of a record's images as data URLs, or why they cannot be sent."""
    parts = []
    for image in record.images if isinstance(record, Sample | Pair) else []:
        data = image_bytes(image)
        url = image_data_url(data, max_side) if not isinstance(data, Drop) else data
        if isinstance(url, Drop):
            return url
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts


@register
class Regenerate(ChatStep):
    """Rewrite answers/captions with a permissively licensed model; record source and generator licences."""

    name = "regenerate"
    Params = RegenerateParams

    def prompt_file(self) -> tuple[str, str]:
        return self.params.prompt_language, self.params.prompt

    def check(self) -> None:
        if not self.params.client.license.strip():
            raise RecipeError(
                f"step {self.label}: client.license is empty; set the generator model's licence (SPDX id, "
                "e.g. Apache-2.0): every regenerated sample records it and license_filter checks it"
            )
        super().check()

    def _request(self, record: Record, slot: Slot, images: list[dict]) -> ChatRequest:
        messages = self._prompt.messages(context=_context(record, slot), original=slot.text.strip())
        if images:
            messages[-1] = {
                "role": "user",
                "content": images + [{"type": "text", "text": messages[-1]["content"]}],
            }
        return ChatRequest(messages)

    def apply_batch(self, records: list[Record]) -> list[Record | Drop]:
        p = self.params
        out: list[Record | Drop] = list(records)
        asks: list[tuple[int, Slot]] = []
        requests: list[ChatRequest] = []
        for n, record in enumerate(records):
            images = image_parts(record, p.max_image_side) if p.with_images else []
            if isinstance(images, Drop):
                out[n] = images
                continue
            for slot in record_slots(record, p.roles, p.text, p.metadata_keys):
                if len(slot.text.strip()) >= p.min_chars:
                    asks.append((n, slot))
                    requests.append(self._request(record, slot, images))
        results = self._client.complete(requests) if requests else []
        rewritten: dict[int, list[tuple[Slot, str]]] = {}
        for (n, slot), result in zip(asks, results, strict=True):
            drop = unusable(result, "empty_output")
            if drop and not isinstance(out[n], Drop):
                out[n] = drop
            rewritten.setdefault(n, []).append((slot, (result.text or "").strip()))
        for n, record in enumerate(records):
            if not isinstance(out[n], Drop):
                self._finish(record, rewritten.get(n, []))
        return out

    def _finish(self, record: Record, rewritten: list[tuple[Slot, str]]) -> None:
        p = self.params
        if not record.provenance.license:
            record.provenance.license = p.source_license
        if not rewritten:  # only short texts: no model wrote any of this record here
            return
        if p.keep_original:
            record.metadata["regenerated_from"] = originals(record, [slot for slot, _ in rewritten])
        for slot, text in rewritten:
            set_slot(record, slot.where, text)
        add_generator(record, self.name, p.client, self._prompt.sha256)

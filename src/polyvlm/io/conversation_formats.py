"""write_llava_json / write_messages_jsonl: conversations in the two formats training code reads.

LLaVA JSON: a JSON array of {"id", "image", "conversations": [{"from": "human"|"gpt", "value"}]}, with
`<image>` markers in the values (LLaVA's own training scripts). OpenAI messages JSONL: one
{"messages": [{"role", "content": [parts]}]} per line, each `<image>` marker becoming an image part in
place (what chat-template based trainers and the OpenAI fine-tuning format read).
"""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any

from polyvlm.core.records import ImageRef, Message, Record, Sample
from polyvlm.core.step import Params, WriteStep, register
from polyvlm.io.atomic import PartedWriter

ROLE_TO_LLAVA = {"user": "human", "assistant": "gpt", "system": "system"}
LLAVA_TO_ROLE = {v: k for k, v in ROLE_TO_LLAVA.items()}
_IMAGE = re.compile(r"<image>\n?")


def image_location(sample: Sample, k: int) -> str:
    """Where the k-th image of a sample is: its path, else its URL, else its sha256."""
    image = sample.images[k]
    return image.path or image.url or image.sha256


def to_llava(sample: Sample) -> dict[str, Any]:
    """A sample as one LLaVA training record."""
    out: dict[str, Any] = {"id": sample.id}
    if len(sample.images) == 1:
        out["image"] = image_location(sample, 0)
    elif sample.images:
        out["image"] = [image_location(sample, k) for k in range(len(sample.images))]
    out["conversations"] = [
        {"from": ROLE_TO_LLAVA.get(m.role, m.role), "value": m.content} for m in sample.messages
    ]
    return out


def to_messages(sample: Sample) -> dict[str, Any]:
    """A sample as OpenAI chat messages; `<image>` markers become image parts at their place."""
    messages, k = [], 0
    for m in sample.messages:
        parts: list[dict[str, Any]] = []
        pieces = _IMAGE.split(m.content)
        for n, text in enumerate(pieces):
            if n:  # an <image> marker stood before this piece
                url = image_location(sample, k) if k < len(sample.images) else ""
                parts.append({"type": "image_url", "image_url": {"url": url}})
                k += 1
            if text:
                parts.append({"type": "text", "text": text})
        messages.append({"role": m.role, "content": parts})
    return {"id": sample.id, "messages": messages}


# Reading back: the inverse of to_llava / to_messages (review reads any conversation output).


def from_llava(d: dict[str, Any], n: int) -> Sample:
    """A LLaVA record ({id, image, conversations: [{from, value}]}) as a Sample."""
    image = d.get("image")
    paths = [] if image is None else [image] if isinstance(image, str) else list(image)
    messages = [Message(LLAVA_TO_ROLE.get(t["from"], t["from"]), str(t["value"])) for t in d["conversations"]]
    if not messages:
        raise ValueError("no conversation turns")
    return Sample(id=str(d.get("id", f"llava-{n}")), images=[image_ref(p) for p in paths], messages=messages)


def from_messages(d: dict[str, Any], n: int) -> Sample:
    """An OpenAI messages record ({messages: [{role, content}]}) as a Sample, image parts as <image> markers."""
    images: list[ImageRef] = []
    messages = []
    for m in d["messages"]:
        content = m["content"]
        if isinstance(content, str):
            messages.append(Message(m["role"], content))
            continue
        text = ""
        for part in content:
            if part.get("type") == "image_url":
                images.append(image_ref(part["image_url"]["url"]))
                text += "<image>\n"
            else:
                text += str(part.get("text", ""))
        messages.append(Message(m["role"], text))
    if not messages:
        raise ValueError("no messages")
    return Sample(id=str(d.get("id", f"messages-{n}")), images=images, messages=messages)


def image_ref(location: str) -> ImageRef:
    """An image location from LLaVA or messages: a data URL (bytes), an http URL or a path."""
    if location.startswith("data:"):
        return ImageRef(data=base64.b64decode(location.split(",", 1)[1]))
    if location.startswith(("http://", "https://")):
        return ImageRef(url=location)
    return ImageRef(path=location)


class ConversationParams(Params):
    """Parameters of the conversation writers."""

    path: str = "conversations"
    """directory inside the run's output directory"""


class _LlavaShard(PartedWriter):
    suffix = ".json"

    def _open_part(self, tmp_path: str) -> None:
        self._f = open(tmp_path, "w", encoding="utf-8")
        self._first = True
        self._f.write("[\n")

    def _write(self, record: Record) -> None:
        if not isinstance(record, Sample):
            raise TypeError(f"write_llava_json writes samples, got a {record.kind}")
        self._f.write(("" if self._first else ",\n") + json.dumps(to_llava(record), ensure_ascii=False))
        self._first = False

    def _close_part(self) -> None:
        self._f.write("\n]\n")
        self._f.close()


class _MessagesShard(PartedWriter):
    suffix = ".jsonl"

    def _open_part(self, tmp_path: str) -> None:
        self._f = open(tmp_path, "w", encoding="utf-8")

    def _write(self, record: Record) -> None:
        if not isinstance(record, Sample):
            raise TypeError(f"write_messages_jsonl writes samples, got a {record.kind}")
        self._f.write(json.dumps(to_messages(record), ensure_ascii=False) + "\n")

    def _close_part(self) -> None:
        self._f.close()


@register
class WriteLlavaJson(WriteStep):
    """Write samples as LLaVA JSON (conversations with <image>), one JSON array per shard part."""

    name = "write_llava_json"
    Params = ConversationParams

    def open(self, out_dir: str, shard_name: str, shard_size: int) -> _LlavaShard:
        return _LlavaShard(os.path.join(out_dir, self.params.path), shard_name, shard_size)


@register
class WriteMessagesJsonl(WriteStep):
    """Write samples as OpenAI chat messages JSONL, images as parts where their <image> markers were."""

    name = "write_messages_jsonl"
    Params = ConversationParams

    def open(self, out_dir: str, shard_name: str, shard_size: int) -> _MessagesShard:
        return _MessagesShard(os.path.join(out_dir, self.params.path), shard_name, shard_size)

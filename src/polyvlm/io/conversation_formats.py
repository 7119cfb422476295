"""write_llava_json / write_messages_jsonl: conversations in the two formats training code reads.

LLaVA JSON: a JSON array of {"id", "image", "conversations": [{"from": "human"|"gpt", "value"}]}, with
`<image>` markers in the values (LLaVA's own training scripts). OpenAI messages JSONL: one
{"messages": [{"role", "content": [parts]}]} per line, each `<image>` marker becoming an image part in
place (what chat-template based trainers and the OpenAI fine-tuning format read). Both carry the
sample's Jagle category as an extra `category` key when it has one (training's per-category rates).
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
from polyvlm.io.image_files_store import IMAGES_DIR, with_image_files

ROLE_TO_LLAVA = {"user": "human", "assistant": "gpt", "system": "system"}
LLAVA_TO_ROLE = {v: k for k, v in ROLE_TO_LLAVA.items()}
_IMAGE = re.compile(r"<image>\n?")


def image_location(sample: Sample, k: int, base_dir: str | None = None) -> str:
    """Where the k-th image of a sample is: its path, else its URL, else its sha256.

    With ``base_dir`` (the folder of the file being written) a local path is written relative to it, so
    a reader finds the image from any working directory (docs/inputs.md, "paths in datasets").
    """
    image = sample.images[k]
    if image.path and base_dir is not None and "://" not in image.path:
        return os.path.relpath(os.path.abspath(image.path), os.path.abspath(base_dir))
    return image.path or image.url or image.sha256


def to_llava(sample: Sample, base_dir: str | None = None) -> dict[str, Any]:
    """A sample as one LLaVA training record (image paths relative to ``base_dir`` when given)."""
    out: dict[str, Any] = {"id": sample.id}
    if len(sample.images) == 1:
        out["image"] = image_location(sample, 0, base_dir)
    elif sample.images:
        out["image"] = [image_location(sample, k, base_dir) for k in range(len(sample.images))]
    out["conversations"] = [
        {"from": ROLE_TO_LLAVA.get(m.role, m.role), "value": m.content} for m in sample.messages
    ]
    return _with_category(out, sample)


def _with_category(out: dict[str, Any], sample: Sample) -> dict[str, Any]:
    """The record with the sample's Jagle category as an extra ``category`` key (other readers ignore it)."""
    category = sample.metadata.get("category")
    if isinstance(category, str) and category:
        out["category"] = category
    return out


def _category(d: dict[str, Any]) -> dict[str, Any]:
    """The metadata a record's ``category`` key gives back (training's per-category rates read it)."""
    category = d.get("category")
    return {"category": category} if isinstance(category, str) and category else {}


def to_messages(sample: Sample, base_dir: str | None = None) -> dict[str, Any]:
    """A sample as OpenAI chat messages; `<image>` markers become image parts at their place."""
    messages, k = [], 0
    for m in sample.messages:
        parts: list[dict[str, Any]] = []
        pieces = _IMAGE.split(m.content)
        for n, text in enumerate(pieces):
            if n:  # an <image> marker stood before this piece
                url = image_location(sample, k, base_dir) if k < len(sample.images) else ""
                parts.append({"type": "image_url", "image_url": {"url": url}})
                k += 1
            if text:
                parts.append({"type": "text", "text": text})
        messages.append({"role": m.role, "content": parts})
    return _with_category({"id": sample.id, "messages": messages}, sample)


# Reading back: the inverse of to_llava / to_messages, and the one rule every reader of conversations
# follows (training, review, evaluation): known roles only, as many images as <image> marks, no empty
# assistant turn, and a relative image path taken from the folder of the file that names it.

ROLES = ("user", "assistant", "system")


class ConversationError(ValueError):
    """A record that is no usable conversation: ``reason`` is the short, countable cause."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def from_llava(d: dict[str, Any], n: int, base_dir: str | None = None) -> Sample:
    """A LLaVA record ({id, image, conversations: [{from, value}]}) as a Sample; ValueError says why not."""
    image = d.get("image")
    paths = [] if image is None else [image] if isinstance(image, str) else list(image)
    turns = d.get("conversations")
    if not isinstance(turns, list):
        raise ConversationError("no turns", "no 'conversations' list")
    messages = [Message(_role(LLAVA_TO_ROLE.get(t.get("from"), t.get("from")), k), str(t.get("value", "")))
                for k, t in enumerate(turns)]  # fmt: skip
    marks = sum(m.content.count("<image>") for m in messages)
    if len(paths) == 1 and marks == 0 and messages:  # LLaVA puts a lone unmarked image before the first turn
        messages[0] = Message(messages[0].role, "<image>\n" + messages[0].content)
    sample = Sample(
        id=str(d.get("id", f"llava-{n}")),
        images=[image_ref(str(p), base_dir) for p in paths],
        messages=messages,
        metadata=_category(d),
    )
    check_conversation(sample)
    return sample


def from_messages(d: dict[str, Any], n: int, base_dir: str | None = None) -> Sample:
    """An OpenAI messages record ({messages: [{role, content}]}) as a Sample, image parts as <image> marks."""
    images: list[ImageRef] = []
    messages = []
    turns = d.get("messages")
    if not isinstance(turns, list):
        raise ConversationError("no turns", "no 'messages' list")
    for k, m in enumerate(turns):
        content = m.get("content")
        if content is None or isinstance(content, str):
            messages.append(Message(_role(m.get("role"), k), content or ""))
            continue
        text = ""
        for part in content:
            kind = part.get("type")
            if kind in ("image_url", "image"):
                url = part["image_url"]["url"] if kind == "image_url" else part.get("image")
                images.append(image_ref(str(url), base_dir))
                text += "<image>"  # as the chat template writes an image item: no newline
            elif kind in ("text", None):
                text += str(part.get("text", ""))
            else:
                raise ConversationError("unknown content part", f"turn {k}: part type {kind!r}")
        messages.append(Message(_role(m.get("role"), k), text))
    sample = Sample(
        id=str(d.get("id", f"messages-{n}")), images=images, messages=messages, metadata=_category(d)
    )
    check_conversation(sample)
    return sample


def _role(role: Any, k: int) -> str:
    if role not in ROLES:
        raise ConversationError("unknown role", f"turn {k}: {role!r} (known: {', '.join(ROLES)}, human, gpt)")
    return role


def check_conversation(sample: Sample) -> None:
    """The rule for a usable conversation; raises ConversationError naming the sample and the turn at fault."""
    if not sample.messages:
        raise ConversationError("no turns", f"sample {sample.id}")
    for k, m in enumerate(sample.messages):
        if m.role == "assistant" and not m.content.strip():
            raise ConversationError("empty assistant turn", f"sample {sample.id}: turn {k} is {m.content!r}")
    marks = sum(m.content.count("<image>") for m in sample.messages)
    if marks != len(sample.images):
        raise ConversationError(
            "image count differs from <image> marks",
            f"sample {sample.id}: {len(sample.images)} images, {marks} marks",
        )


def image_ref(location: str, base_dir: str | None = None) -> ImageRef:
    """An image location from LLaVA or messages: a data URL (bytes), an http URL or a path.

    A relative path is taken from ``base_dir`` (the folder of the file that names it) when given.
    """
    if location.startswith("data:"):
        return ImageRef(data=base64.b64decode(location.split(",", 1)[1]))
    if location.startswith(("http://", "https://")):
        return ImageRef(url=location)
    if base_dir is not None and not os.path.isabs(location) and "://" not in location:
        location = os.path.normpath(os.path.join(base_dir, location))
    return ImageRef(path=location)


class ConversationParams(Params):
    """Parameters of the conversation writers."""

    path: str = "conversations"
    """directory inside the run's output directory"""


class _ConversationShard(PartedWriter):
    """A conversation writer's part files; images held only as bytes are stored once under images/."""

    def _portable(self, record: Record) -> Sample:
        """The sample with every image that has no path or URL written to images/<sha256>.<ext>."""
        if not isinstance(record, Sample):
            raise TypeError(f"{self.step_name} writes samples, got a {record.kind}")
        return with_image_files(record, os.path.join(self.directory, IMAGES_DIR))


class _LlavaShard(_ConversationShard):
    suffix = ".json"
    step_name = "write_llava_json"

    def _open_part(self, tmp_path: str) -> None:
        self._f = open(tmp_path, "w", encoding="utf-8")
        self._first = True
        self._f.write("[\n")

    def _write(self, record: Record) -> None:
        sample = to_llava(self._portable(record), self.directory)
        self._f.write(("" if self._first else ",\n") + json.dumps(sample, ensure_ascii=False))
        self._first = False

    def _close_part(self) -> None:
        self._f.write("\n]\n")
        self._f.close()


class _MessagesShard(_ConversationShard):
    suffix = ".jsonl"
    step_name = "write_messages_jsonl"

    def _open_part(self, tmp_path: str) -> None:
        self._f = open(tmp_path, "w", encoding="utf-8")

    def _write(self, record: Record) -> None:
        sample = to_messages(self._portable(record), self.directory)
        self._f.write(json.dumps(sample, ensure_ascii=False) + "\n")

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

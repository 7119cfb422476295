"""The texts of a record that a model rewrites or a filter judges, addressed so they can be written back.

A slot is a message of a Sample (by role), a Pair's text, a Document's text segment, or a metadata field
holding a string or a list of strings (a caption, a question, answer options).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from polyvlm.core.records import Document, Pair, Record, Sample


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a text lives in a record ("message", i) | ("text",) | ("texts", i) | ("metadata", key[, j])."""

    where: tuple[Any, ...]
    text: str


def record_slots(
    record: Record,
    roles: Iterable[str] = ("assistant",),
    text: bool = True,
    metadata_keys: Iterable[str] = (),
) -> list[Slot]:
    """The slots of a record in a stable order: messages of the given roles, the main text, metadata keys."""
    roles = set(roles)
    out: list[Slot] = []
    if isinstance(record, Sample):
        out += [Slot(("message", i), m.content) for i, m in enumerate(record.messages) if m.role in roles]
    elif isinstance(record, Pair) and text:
        out.append(Slot(("text",), record.text))
    elif isinstance(record, Document) and text:
        out += [Slot(("texts", i), t) for i, t in enumerate(record.texts)]
    for key in metadata_keys:
        value = record.metadata.get(key)
        if isinstance(value, str):
            out.append(Slot(("metadata", key), value))
        elif isinstance(value, list):
            out += [Slot(("metadata", key, j), v) for j, v in enumerate(value) if isinstance(v, str)]
    return out


def set_slot(record: Record, where: tuple[Any, ...], text: str) -> None:
    """Write a text back into its slot."""
    kind = where[0]
    if kind == "message":
        record.messages[where[1]].content = text  # type: ignore[union-attr]
    elif kind == "text":
        record.text = text  # type: ignore[union-attr]
    elif kind == "texts":
        record.texts[where[1]] = text  # type: ignore[union-attr]
    elif len(where) == 2:
        record.metadata[where[1]] = text
    else:
        record.metadata[where[1]][where[2]] = text


def originals(record: Record, slots: list[Slot]) -> dict[str, Any]:
    """A copy of what the slots are about to replace, for the record's metadata (review, audits)."""
    out: dict[str, Any] = {}
    kinds = {s.where[0] for s in slots}
    if "message" in kinds:
        out["messages"] = [m.to_dict() for m in record.messages]  # type: ignore[union-attr]
    if "text" in kinds:
        out["text"] = record.text  # type: ignore[union-attr]
    if "texts" in kinds:
        out["texts"] = list(record.texts)  # type: ignore[union-attr]
    keys = [s.where[1] for s in slots if s.where[0] == "metadata"]
    if keys:
        out["metadata"] = {
            k: record.metadata[k] if isinstance(record.metadata[k], str) else list(record.metadata[k])
            for k in dict.fromkeys(keys)
        }
    return out


def generated_texts(record: Record, roles: Iterable[str] = ("assistant",)) -> list[str]:
    """What a model wrote in a record: the turns of the given roles, or a Pair's or Document's text."""
    return [s.text for s in record_slots(record, roles=roles, text=True)]

"""The record kinds that flow through a recipe (Document, Sample, Pair) and their parts, each field declared once.

A field's annotation decides how it is stored (core/record_fields.py): to_dict, from_dict and the Arrow
schema all derive from the declaration, so a new field is serialised everywhere or fails at import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from polyvlm.core.declared_record import DeclaredRecord
from polyvlm.core.record_plan import declare_fields


@declare_fields
@dataclass(slots=True)
class Provenance(DeclaredRecord):
    """Where a record came from and under which terms it may be used."""

    source: str = ""  # input file (as matched by the recipe glob) or dataset name
    license: str = ""  # SPDX id or free text; empty when unknown
    offset: int | None = None  # byte offset of the source record inside `source`
    record_id: str = ""  # id of the source record (e.g. WARC-Record-ID)
    crawl_date: str = ""  # as stated by the source, unparsed
    generator: str = ""  # model that generated the record, for synthetic data


@declare_fields
@dataclass(slots=True)
class ImageRef(DeclaredRecord):
    """One image: where it is, its bytes if held, what we know about it, and its named scores."""

    url: str = ""
    path: str = ""
    data: bytes | None = None
    sha256: str = ""
    width: int | None = None
    height: int | None = None
    format: str = ""
    alt: str = ""
    dom_index: int | None = None  # ordinal of the <img> element among all elements, document order
    segment_index: int | None = None  # index of the text segment the image precedes (interleaved docs)
    phash: str = ""  # 64-bit perceptual hash, 16 hex digits
    scores: dict[str, float] = field(default_factory=dict)


@declare_fields
@dataclass(slots=True)
class Message(DeclaredRecord):
    """One turn of a conversation; `<image>` markers in content refer to the sample's images in order."""

    role: str
    content: str


@declare_fields
@dataclass(slots=True)
class Document(DeclaredRecord):
    """A web page or other source document: ordered text segments, images, metadata, provenance."""

    kind: ClassVar[str] = "document"
    id: str
    url: str = ""
    language: str = ""
    texts: list[str] = field(default_factory=list)
    images: list[ImageRef] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance)
    raw: bytes | None = None  # undecoded payload, held between reading and extraction
    raw_content_type: str = ""

    @property
    def text(self) -> str:
        """The text segments joined by blank lines."""
        return "\n\n".join(self.texts)


@declare_fields
@dataclass(slots=True)
class Sample(DeclaredRecord):
    """A training example: images, messages with roles, task, language, provenance."""

    kind: ClassVar[str] = "sample"
    id: str
    images: list[ImageRef] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    task: str = ""
    language: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance)


@declare_fields
@dataclass(slots=True)
class Pair(DeclaredRecord):
    """An image and one text about it (an alt text, a caption): the unit of a pretraining pair corpus."""

    kind: ClassVar[str] = "pair"
    id: str
    text: str = ""
    image: ImageRef = field(default_factory=ImageRef)
    url: str = ""  # the page the pair was found on
    language: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance)

    @property
    def images(self) -> list[ImageRef]:
        """The pair's image as a one-element list (what code written for any record reads)."""
        return [self.image]


Record = Document | Sample | Pair
RECORD_TYPES: dict[str, type[Document] | type[Sample] | type[Pair]] = {
    "document": Document,
    "sample": Sample,
    "pair": Pair,
}


def record_type(kind: str) -> type[Document] | type[Sample] | type[Pair]:
    """The record class of a kind; an unknown kind is a ValueError naming the known ones."""
    if kind not in RECORD_TYPES:
        raise ValueError(f"unknown record kind {kind!r}; expected one of {sorted(RECORD_TYPES)}")
    return RECORD_TYPES[kind]


def record_from_dict(d: dict[str, Any]) -> Record:
    """Rebuild a record from its JSON form, dispatching on its `kind`."""
    return record_type(d.get("kind", "document")).from_dict(d)


def record_to_json(record: Record) -> str:
    """One JSON line for a record (exact float round-trip, non-ASCII kept)."""
    return json.dumps(record.to_dict(), ensure_ascii=False, allow_nan=True)


def record_from_json(line: str | bytes) -> Record:
    """Inverse of record_to_json."""
    return record_from_dict(json.loads(line))


def record_text(record: Record) -> str:
    """The text a record's language is judged on."""
    if isinstance(record, Document):
        return " ".join(record.texts)
    if isinstance(record, Sample):
        return " ".join(m.content for m in record.messages)
    if isinstance(record, Pair):
        return record.text
    return ""


def qa_messages(pairs: list[tuple[str, str]]) -> list[Message]:
    """User/assistant turns from (question, answer) pairs; the first question opens with `<image>`."""
    turns = []
    for k, (question, answer) in enumerate(pairs):
        turns.append(Message("user", ("<image>\n" if k == 0 else "") + question))
        turns.append(Message("assistant", answer))
    return turns

"""The records that flow through a recipe: Document, ImageRef, Sample (one schema, JSON and Arrow forms)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import pyarrow as pa


@dataclass(slots=True)
class Provenance:
    """Where a record came from and under which terms it may be used."""

    source: str = ""  # input file (as matched by the recipe glob) or dataset name
    license: str = ""  # SPDX id or free text; empty when unknown
    offset: int | None = None  # byte offset of the source record inside `source`
    record_id: str = ""  # id of the source record (e.g. WARC-Record-ID)
    crawl_date: str = ""  # as stated by the source, unparsed
    generator: str = ""  # model that generated the record, for synthetic data

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Provenance:
        """Inverse of to_dict."""
        return cls(**(d or {}))


@dataclass(slots=True)
class ImageRef:
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

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (bytes as base64)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["data"] = None if self.data is None else base64.b64encode(self.data).decode("ascii")
        d["scores"] = dict(self.scores)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImageRef:
        """Inverse of to_dict; also accepts raw bytes from the Arrow form."""
        d = dict(d)
        data = d.get("data")
        if isinstance(data, str):
            d["data"] = base64.b64decode(data)
        d["scores"] = dict(d.get("scores") or {})
        return cls(**d)


@dataclass(slots=True)
class Message:
    """One turn of a conversation; `<image>` markers in content refer to the sample's images in order."""

    role: str
    content: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"role": self.role, "content": self.content}


@dataclass(slots=True)
class Document:
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

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (bytes as base64)."""
        return {
            "kind": self.kind,
            "id": self.id,
            "url": self.url,
            "language": self.language,
            "texts": list(self.texts),
            "images": [im.to_dict() for im in self.images],
            "metadata": self.metadata,
            "provenance": self.provenance.to_dict(),
            "raw": None if self.raw is None else base64.b64encode(self.raw).decode("ascii"),
            "raw_content_type": self.raw_content_type,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Document:
        """Inverse of to_dict."""
        raw = d.get("raw")
        return cls(
            id=d["id"],
            url=d.get("url", ""),
            language=d.get("language", ""),
            texts=list(d.get("texts") or []),
            images=[ImageRef.from_dict(i) for i in d.get("images") or []],
            metadata=dict(d.get("metadata") or {}),
            provenance=Provenance.from_dict(d.get("provenance")),
            raw=base64.b64decode(raw) if isinstance(raw, str) else raw,
            raw_content_type=d.get("raw_content_type", ""),
        )


@dataclass(slots=True)
class Sample:
    """A training example: images, messages with roles, task, language, provenance."""

    kind: ClassVar[str] = "sample"
    id: str
    images: list[ImageRef] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    task: str = ""
    language: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (bytes as base64)."""
        return {
            "kind": self.kind,
            "id": self.id,
            "images": [im.to_dict() for im in self.images],
            "messages": [m.to_dict() for m in self.messages],
            "task": self.task,
            "language": self.language,
            "metadata": self.metadata,
            "provenance": self.provenance.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Sample:
        """Inverse of to_dict."""
        return cls(
            id=d["id"],
            images=[ImageRef.from_dict(i) for i in d.get("images") or []],
            messages=[Message(**m) for m in d.get("messages") or []],
            task=d.get("task", ""),
            language=d.get("language", ""),
            metadata=dict(d.get("metadata") or {}),
            provenance=Provenance.from_dict(d.get("provenance")),
        )


@dataclass(slots=True)
class Pair:
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

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (bytes as base64)."""
        return {
            "kind": self.kind,
            "id": self.id,
            "text": self.text,
            "image": self.image.to_dict(),
            "url": self.url,
            "language": self.language,
            "metadata": self.metadata,
            "provenance": self.provenance.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Pair:
        """Inverse of to_dict."""
        return cls(
            id=d["id"],
            text=d.get("text", ""),
            image=ImageRef.from_dict(d.get("image") or {}),
            url=d.get("url", ""),
            language=d.get("language", ""),
            metadata=dict(d.get("metadata") or {}),
            provenance=Provenance.from_dict(d.get("provenance")),
        )


Record = Document | Sample | Pair
RECORD_TYPES: dict[str, type[Document] | type[Sample] | type[Pair]] = {
    "document": Document,
    "sample": Sample,
    "pair": Pair,
}


def record_from_dict(d: dict[str, Any]) -> Record:
    """Rebuild a record from its JSON form, dispatching on its `kind`."""
    kind = d.get("kind", "document")
    if kind not in RECORD_TYPES:
        raise ValueError(f"unknown record kind {kind!r}; expected one of {sorted(RECORD_TYPES)}")
    return RECORD_TYPES[kind].from_dict(d)


def record_to_json(record: Record) -> str:
    """One JSON line for a record (exact float round-trip, non-ASCII kept)."""
    return json.dumps(record.to_dict(), ensure_ascii=False, allow_nan=True)


def record_from_json(line: str | bytes) -> Record:
    """Inverse of record_to_json."""
    return record_from_dict(json.loads(line))


# ---- Arrow form -------------------------------------------------------------------------------
# metadata is free-form JSON, so it is stored as a JSON string column: lossless for any JSON value.

PROVENANCE_TYPE = pa.struct(
    [
        ("source", pa.string()),
        ("license", pa.string()),
        ("offset", pa.int64()),
        ("record_id", pa.string()),
        ("crawl_date", pa.string()),
        ("generator", pa.string()),
    ]
)
IMAGE_TYPE = pa.struct(
    [
        ("url", pa.string()),
        ("path", pa.string()),
        ("data", pa.binary()),
        ("sha256", pa.string()),
        ("width", pa.int64()),
        ("height", pa.int64()),
        ("format", pa.string()),
        ("alt", pa.string()),
        ("dom_index", pa.int64()),
        ("segment_index", pa.int64()),
        ("phash", pa.string()),
        ("scores", pa.map_(pa.string(), pa.float64())),
    ]
)
DOCUMENT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("url", pa.string()),
        ("language", pa.string()),
        ("texts", pa.list_(pa.string())),
        ("images", pa.list_(IMAGE_TYPE)),
        ("metadata", pa.string()),
        ("provenance", PROVENANCE_TYPE),
        ("raw", pa.binary()),
        ("raw_content_type", pa.string()),
    ]
)
SAMPLE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("images", pa.list_(IMAGE_TYPE)),
        ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
        ("task", pa.string()),
        ("language", pa.string()),
        ("metadata", pa.string()),
        ("provenance", PROVENANCE_TYPE),
    ]
)
PAIR_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("image", IMAGE_TYPE),
        ("url", pa.string()),
        ("language", pa.string()),
        ("metadata", pa.string()),
        ("provenance", PROVENANCE_TYPE),
    ]
)
SCHEMAS: dict[str, pa.Schema] = {"document": DOCUMENT_SCHEMA, "sample": SAMPLE_SCHEMA, "pair": PAIR_SCHEMA}


def kind_of_schema(names: list[str]) -> str:
    """The record kind a table's column names belong to."""
    if "messages" in names:
        return "sample"
    if "image" in names and "text" in names:
        return "pair"
    return "document"


def _image_row(im: ImageRef) -> dict[str, Any]:
    d = {f.name: getattr(im, f.name) for f in fields(im)}
    d["scores"] = list(im.scores.items())
    return d


def record_to_row(record: Record) -> dict[str, Any]:
    """The Arrow row of a record (see SCHEMAS)."""
    d = record.to_dict()
    d.pop("kind")
    if isinstance(record, Pair):
        d["image"] = _image_row(record.image)
    else:
        d["images"] = [_image_row(im) for im in record.images]
    d["metadata"] = json.dumps(record.metadata, ensure_ascii=False, allow_nan=True)
    if isinstance(record, Document):
        d["raw"] = record.raw
    return d


def row_to_record(kind: str, row: dict[str, Any]) -> Record:
    """Inverse of record_to_row."""
    d = dict(row)
    d["kind"] = kind
    d["metadata"] = json.loads(d.get("metadata") or "{}")
    if kind == "pair":
        d["image"] = _image_from_row(d.get("image") or {})
    else:
        d["images"] = [_image_from_row(im) for im in d.get("images") or []]
    return record_from_dict(d)


def _image_from_row(im: dict[str, Any]) -> dict[str, Any]:
    im = dict(im)
    im["scores"] = dict(im.get("scores") or [])
    return im


def records_to_table(records: list[Record]) -> pa.Table:
    """An Arrow table of records of one kind."""
    kinds = {r.kind for r in records} or {"document"}
    if len(kinds) != 1:
        raise ValueError(f"a table holds one record kind, got {sorted(kinds)}")
    kind = kinds.pop()
    return pa.Table.from_pylist([record_to_row(r) for r in records], schema=SCHEMAS[kind])


def table_to_records(table: pa.Table, kind: str | None = None) -> list[Record]:
    """Inverse of records_to_table; the kind is inferred from the schema when not given."""
    if kind is None:
        kind = kind_of_schema(table.schema.names)
    return [row_to_record(kind, row) for row in table.to_pylist()]


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

"""write_obelics: interleaved documents as OBELICS-style Parquet — aligned `texts` / `images` lists per document.

A row is one document in reading order: at each position either `texts[i]` holds a text (and `images[i]`
is null) or `images[i]` holds an image URL (and `texts[i]` is null), as in HuggingFaceM4/OBELICS. The
sentences between two images make one text (see io/interleaved_order.py). `metadata` is a JSON list with
one object per position (an image's size, pHash, scores; null for texts), `general_metadata` a JSON object
(url, id, language, placement, provenance with the licence); `image_bytes` (when kept) aligns with
`images`. The images stand where the placement put them: the page's place (dom) or the assigned sentence.
"""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

from polyvlm.core.records import Document, Record
from polyvlm.core.step import Params, WriteStep, register
from polyvlm.io.atomic import PartedWriter
from polyvlm.io.interleaved_order import reading_order

OBELICS_SCHEMA = pa.schema(
    [
        ("images", pa.list_(pa.string())),
        ("texts", pa.list_(pa.string())),
        ("metadata", pa.string()),
        ("general_metadata", pa.string()),
        ("image_bytes", pa.list_(pa.binary())),
    ]
)


ROW_GROUP = 64  # documents per row group: the writer's memory bound (images included)


class WriteObelicsParams(Params):
    """Parameters of write_obelics."""

    path: str = "obelics"
    """directory inside the run's output directory"""
    image_bytes: bool = True
    """keep each image's bytes in the image_bytes column (false: URLs only, as OBELICS publishes)"""
    compression: str = "zstd"
    """Parquet codec: zstd, snappy, gzip, none"""


def obelics_row(doc: Document, with_bytes: bool) -> dict:
    """A document's OBELICS row."""
    images, texts, meta, blobs = [], [], [], []
    for item in reading_order(doc):
        if isinstance(item, str):
            images.append(None)
            texts.append(item)
            meta.append(None)
            blobs.append(None)
            continue
        image = doc.images[item]
        images.append(image.url)
        texts.append(None)
        meta.append({"width": image.width, "height": image.height, "phash": image.phash or None,
                     "format": image.format, "scores": dict(image.scores)})  # fmt: skip
        blobs.append(image.data if with_bytes else None)
    general = {"url": doc.url, "id": doc.id, "language": doc.language,
               "placement": doc.metadata.get("placement", ""), "provenance": doc.provenance.to_dict()}  # fmt: skip
    return {
        "images": images,
        "texts": texts,
        "metadata": json.dumps(meta, ensure_ascii=False),
        "general_metadata": json.dumps(general, ensure_ascii=False),
        "image_bytes": blobs,
    }


class _ObelicsShard(PartedWriter):
    suffix = ".parquet"

    def __init__(self, directory: str, shard_name: str, shard_size: int, params: WriteObelicsParams) -> None:
        super().__init__(directory, shard_name, shard_size)
        self._params = params

    def _open_part(self, tmp_path: str) -> None:
        self._writer = pq.ParquetWriter(tmp_path, OBELICS_SCHEMA, compression=self._params.compression)
        self._rows: list[dict] = []

    def _write(self, record: Record) -> None:
        if not isinstance(record, Document):
            raise TypeError(f"write_obelics writes documents, got a {record.kind}")
        self._rows.append(obelics_row(record, self._params.image_bytes))
        if len(self._rows) >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=OBELICS_SCHEMA))
        self._rows = []

    def _close_part(self) -> None:
        self._flush()
        self._writer.close()


@register
class WriteObelics(WriteStep):
    """Write documents as OBELICS-style Parquet: aligned texts / images lists in reading order."""

    name = "write_obelics"
    Params = WriteObelicsParams

    def open(self, out_dir: str, shard_name: str, shard_size: int) -> _ObelicsShard:
        return _ObelicsShard(os.path.join(out_dir, self.params.path), shard_name, shard_size, self.params)

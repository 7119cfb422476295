"""Rows as Arrow tables between Ray processes: bytes (page payloads, images) in binary columns, not base64."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from polyvlm.core.records import Record, record_from_dict
from polyvlm.engine.rows import Row

ROW_SCHEMA = pa.schema(
    [("shard", pa.int64()), ("idx", pa.int64()), ("sub", pa.int64()), ("phase", pa.int64()),
     ("status", pa.string()), ("step", pa.string()), ("reason", pa.string()), ("detail", pa.string()),
     ("origin", pa.string()), ("metrics", pa.string()),
     ("rec", pa.large_string()),  # the record's JSON form without its bytes
     ("raw", pa.large_binary()),  # a Document's undecoded payload
     ("images", pa.list_(pa.large_binary())),  # the records' image bytes, in record order
     # where the row sits in the stream: chunk of its shard, and whether that chunk ends the shard; its
     # place in the chunk and the chunk's row count (Ray Data may split a chunk between blocks)
     ("chunk", pa.int64()), ("last", pa.bool_()), ("pos", pa.int64()), ("chunk_rows", pa.int64()),
     ("agg", pa.large_binary())]  # the shard's partial aggregate state (pickled): first row of its last chunk
)  # fmt: skip


def _image_dicts(d: dict[str, Any]) -> list[dict[str, Any]]:
    return list(d.get("images") or []) + ([d["image"]] if isinstance(d.get("image"), dict) else [])


def _split_bytes(record: Record) -> tuple[str, bytes | None, list[bytes | None]]:
    d = _to_dict_without_bytes(record)
    return (
        json.dumps(d, ensure_ascii=False, allow_nan=True),
        getattr(record, "raw", None),
        [im.data for im in record.images],
    )


def _to_dict_without_bytes(record: Record) -> dict[str, Any]:
    # to_dict base64-encodes bytes; take them out first so they are encoded never, not once per step
    raw = getattr(record, "raw", None)
    datas = [im.data for im in record.images]
    try:
        if raw is not None:
            record.raw = None  # type: ignore[union-attr]
        for im in record.images:
            im.data = None
        return record.to_dict()
    finally:
        if raw is not None:
            record.raw = raw  # type: ignore[union-attr]
        for im, data in zip(record.images, datas, strict=True):
            im.data = data


def rows_to_table(rows: list[Row], chunk: int = 0, last: bool = False, agg: bytes | None = None) -> pa.Table:
    """The Arrow form of a block of rows (one chunk of one shard)."""
    cols: dict[str, list[Any]] = {name: [] for name in ROW_SCHEMA.names}
    for i, r in enumerate(rows):
        rec, raw, images = _split_bytes(r.record) if r.record is not None else ("", None, [])
        for name, value in (("shard", r.shard), ("idx", r.idx), ("sub", r.sub), ("phase", r.phase),
                            ("status", r.status), ("step", r.step), ("reason", r.reason),
                            ("detail", r.detail), ("origin", r.origin), ("metrics", r.metrics),
                            ("rec", rec), ("raw", raw), ("images", images), ("chunk", chunk),
                            ("last", last), ("pos", i), ("chunk_rows", len(rows)),
                            ("agg", agg if i == 0 else None)):  # fmt: skip
            cols[name].append(value)
    return pa.table(cols, schema=ROW_SCHEMA)


def table_to_rows(table: pa.Table) -> list[Row]:
    """Inverse of rows_to_table (the bookkeeping columns chunk, last, pos, chunk_rows and agg are read separately)."""
    cols = {name: table.column(name).to_pylist() for name in ROW_SCHEMA.names if name in table.column_names}
    rows = []
    for i in range(table.num_rows):
        record = None
        if cols["rec"][i]:
            d = json.loads(cols["rec"][i])
            if cols["raw"][i] is not None:
                d["raw"] = cols["raw"][i]
            for im, data in zip(_image_dicts(d), cols["images"][i] or [], strict=False):
                im["data"] = data
            record = record_from_dict(d)
        rows.append(
            Row(cols["shard"][i], cols["idx"][i], record, cols["phase"][i], cols["status"][i], cols["step"][i],
                cols["reason"][i], cols["detail"][i], cols["sub"][i], cols["origin"][i], cols["metrics"][i])
        )  # fmt: skip
    return rows

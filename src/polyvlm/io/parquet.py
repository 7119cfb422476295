"""read_parquet / write_parquet: records in their Arrow form (see core.records.SCHEMAS)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from polyvlm.core.records import SCHEMAS, Record, kind_of_schema, record_to_row, row_to_record
from polyvlm.core.step import Params, ReadIssue, ReadStep, WriteStep, register
from polyvlm.io.atomic import PartedWriter


@register
class ReadParquet(ReadStep):
    """Read records written by write_parquet, one row group at a time."""

    name = "read_parquet"
    extensions = (".parquet",)

    def read(self, path: str) -> Iterator[Record | ReadIssue]:
        try:
            pf = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as e:
            yield ReadIssue("error", "bad_parquet", f"{path}: {e}")
            return
        kind = kind_of_schema(pf.schema_arrow.names)
        for i in range(pf.num_row_groups):
            for row in pf.read_row_group(i).to_pylist():
                yield row_to_record(kind, row)


class WriteParquetParams(Params):
    """Parameters of write_parquet."""

    path: str = "parquet"
    """directory inside the run's output directory"""
    row_group_size: int = 512
    """rows per Parquet row group (the writer's memory bound)"""
    compression: str = "zstd"
    """Parquet codec: zstd, snappy, gzip, none"""
    image_bytes: bool = True
    """store image bytes; false makes an index (every field and score, images stay in the WebDataset)"""


class _ParquetShard(PartedWriter):
    suffix = ".parquet"

    def __init__(self, directory: str, shard_name: str, shard_size: int, params: WriteParquetParams) -> None:
        super().__init__(directory, shard_name, shard_size)
        self._params = params
        self._rows: list[dict] = []
        self._writer: pq.ParquetWriter | None = None
        self._kind = ""

    def _open_part(self, tmp_path: str) -> None:
        self._tmp = tmp_path
        self._rows = []
        self._writer = None

    def _write(self, record: Record) -> None:
        self._kind = self._kind or record.kind
        row = record_to_row(record)
        if not self._params.image_bytes:
            for image in row.get("images") or ([row["image"]] if "image" in row else []):
                image["data"] = None
        self._rows.append(row)
        if len(self._rows) >= self._params.row_group_size:
            self._flush()

    def _flush(self) -> None:
        schema = SCHEMAS[self._kind or "document"]
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, schema, compression=self._params.compression)
        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=schema))
        self._rows = []

    def _close_part(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()


@register
class WriteParquet(WriteStep):
    """Write records as Parquet (zstd), bounded row groups, one file per shard part."""

    name = "write_parquet"
    Params = WriteParquetParams

    def open(self, out_dir: str, shard_name: str, shard_size: int) -> _ParquetShard:
        return _ParquetShard(os.path.join(out_dir, self.params.path), shard_name, shard_size, self.params)

"""read_jsonl / write_jsonl: records as JSON lines (the lossless plain-text form)."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator

from polyvlm.core.records import Record, record_from_dict, record_to_json
from polyvlm.core.step import Params, ReadIssue, ReadStep, WriteStep, register
from polyvlm.io.atomic import PartedWriter


@register
class ReadJsonl(ReadStep):
    """Read records written by write_jsonl (or any JSONL of record dicts); bad lines are counted errors."""

    name = "read_jsonl"
    extensions = (".jsonl", ".jsonl.gz")

    def read(self, path: str) -> Iterator[Record | ReadIssue]:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    yield record_from_dict(json.loads(line))
                except (ValueError, KeyError, TypeError) as e:
                    yield ReadIssue("error", "bad_jsonl_line", f"{path}:{lineno}: {e}", lineno)


class WriteJsonlParams(Params):
    """Parameters of write_jsonl."""

    path: str = "jsonl"
    """directory inside the run's output directory"""


class _JsonlShard(PartedWriter):
    suffix = ".jsonl"

    def _open_part(self, tmp_path: str) -> None:
        self._f = open(tmp_path, "w", encoding="utf-8")

    def _write(self, record: Record) -> None:
        self._f.write(record_to_json(record) + "\n")

    def _close_part(self) -> None:
        self._f.close()


@register
class WriteJsonl(WriteStep):
    """Write records as JSON lines, one file per shard part."""

    name = "write_jsonl"
    Params = WriteJsonlParams

    def open(self, out_dir: str, shard_name: str, shard_size: int) -> _JsonlShard:
        return _JsonlShard(os.path.join(out_dir, self.params.path), shard_name, shard_size)

"""Atomic publication of output files: write to a temporary name, then rename."""

from __future__ import annotations

import json
import os
from typing import Any

from polyvlm.core.records import Record
from polyvlm.core.step import ShardWriter

TMP_SUFFIX = ".tmp"


def write_atomic(path: str, data: bytes | str) -> None:
    """Write a whole file so that readers see either nothing or all of it."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}{TMP_SUFFIX}"
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json_atomic(path: str, obj: Any) -> None:
    """write_atomic for a JSON document."""
    write_atomic(path, json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True))


class PartedWriter(ShardWriter):
    """A shard output split into parts of at most `shard_size` records, published together on commit."""

    suffix = ""

    def __init__(self, directory: str, shard_name: str, shard_size: int) -> None:
        self.directory = directory
        self.shard_name = shard_name
        self.shard_size = max(1, shard_size)
        self._parts: list[tuple[str, str]] = []  # (tmp, final)
        self._count = 0
        self._open = False
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):  # leftovers of a killed attempt at this shard
            if name.startswith(f"{shard_name}-"):
                os.remove(os.path.join(directory, name))

    def write(self, record: Record) -> None:
        if not self._open:
            final = os.path.join(self.directory, f"{self.shard_name}-{len(self._parts):04d}{self.suffix}")
            tmp = final + TMP_SUFFIX
            self._parts.append((tmp, final))
            self._open_part(tmp)
            self._open = True
        self._write(record)
        self._count += 1
        if self._count % self.shard_size == 0:
            self._close_part()
            self._open = False

    def commit(self) -> list[str]:
        if self._open:
            self._close_part()
            self._open = False
        for tmp, final in self._parts:
            os.replace(tmp, final)
        return [os.path.basename(final) for _, final in self._parts]

    def abort(self) -> None:
        if self._open:
            self._close_part()
            self._open = False
        for tmp, _ in self._parts:
            if os.path.exists(tmp):
                os.remove(tmp)

    def _open_part(self, tmp_path: str) -> None:
        raise NotImplementedError

    def _write(self, record: Record) -> None:
        raise NotImplementedError

    def _close_part(self) -> None:
        raise NotImplementedError

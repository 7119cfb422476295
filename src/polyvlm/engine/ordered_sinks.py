"""Blocks arriving in any order, fed to each shard's sink in input order; a unit is committed when complete.

A block may hold several chunks, or a piece of one (Ray Data merges and splits blocks by size): pieces are
put back together by their rows' place in the chunk before the chunk is fed.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from polyvlm.core.step import WriteStep
from polyvlm.engine.row_table import table_to_rows
from polyvlm.engine.rows import OK, Row
from polyvlm.engine.shard_sink import ShardSink
from polyvlm.engine.units import Phase, RunDir
from polyvlm.io.atomic import TMP_SUFFIX, write_atomic, write_json_atomic


def _add_metrics(into: dict[str, dict[str, float]], carried: str) -> None:
    for label, counters in json.loads(carried or "{}").items():
        mine = into.setdefault(label, {})
        for k, v in counters.items():
            mine[k] = mine.get(k, 0) + v


class _OpenUnit:
    """One (phase, shard) being written: its sink, its spill, the chunks that came early."""

    def __init__(self, root: str, phase: Phase, last: bool, shard: int, reader_label: str,
                 writers: list[WriteStep], shard_size: int) -> None:  # fmt: skip
        self.sink = ShardSink(root, phase.index, shard, phase.labels, reader_label if phase.index == 0 else None,
                              writers if last else None, shard_size)  # fmt: skip
        self.next_chunk = 0
        self.early: dict[int, pa.Table] = {}  # chunks that overtook an earlier one (bounded: work in flight)
        self.pieces: dict[int, list[pa.Table]] = {}  # chunks split between blocks, until complete
        self.metrics: dict[str, dict[str, float]] = {}
        self.observe = phase.observe
        self.partial = phase.observe.init_state() if phase.observe is not None else None
        self.spill = None
        if not last:
            path = RunDir(root).spill(phase.index, shard)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            self.spill = open(path + TMP_SUFFIX, "w", encoding="utf-8")

    def add_piece(self, chunk: int, table: pa.Table) -> None:
        """Keep a piece of a chunk; the chunk goes to `early` once all its rows are in."""
        pieces = self.pieces.setdefault(chunk, [])
        pieces.append(table)
        have = sum(p.num_rows for p in pieces)
        expected = table.column("chunk_rows")[0].as_py()
        if have < expected:
            return
        del self.pieces[chunk]
        if have > expected or chunk in self.early or chunk < self.next_chunk:
            raise RuntimeError(f"chunk {chunk} of a shard arrived twice ({have} rows for {expected})")
        pieces.sort(key=lambda p: p.column("pos")[0].as_py())
        self.early[chunk] = pieces[0] if len(pieces) == 1 else pa.concat_tables(pieces)

    def feed(self, table: pa.Table) -> int:
        """Route one chunk's rows; returns how many."""
        agg = table.column("agg")[0].as_py()
        if agg is not None and self.observe is not None:
            self.partial = self.observe.merge(self.partial, pickle.loads(agg))
        rows: list[Row] = table_to_rows(table)
        for row in rows:
            _add_metrics(self.metrics, row.metrics)
            if self.spill is not None and row.status == OK:
                row.metrics = ""
                self.spill.write(json.dumps(row.to_plain(), ensure_ascii=False) + "\n")
            self.sink.add(row)
        self.next_chunk += 1
        return len(rows)

    def abort(self) -> None:
        """Drop what this unit wrote so far (the next run redoes it)."""
        self.sink.abort()
        if self.spill is not None:
            self.spill.close()
            os.remove(self.spill.name)


class OrderedSinks:
    """The driver's end of a phase on Ray: restores each shard's order per chunk and commits finished units."""

    def __init__(self, root: str, phase: Phase, last: bool, reader_labels: list[str], writers: list[WriteStep],
                 shard_size: int, on_unit: Callable[[int, dict[str, Any]], None]) -> None:  # fmt: skip
        self.root, self.phase, self.last = root, phase, last
        self.reader_labels, self.writers, self.shard_size = reader_labels, writers, shard_size
        self.on_unit = on_unit
        self.open: dict[int, _OpenUnit] = {}
        self.rows = 0

    def add_block(self, block: pa.Table) -> None:
        """Take one block from the pipeline (it may hold several chunks, of one or more shards)."""
        shards, chunks = block.column("shard").to_pylist(), block.column("chunk").to_pylist()
        start = 0
        for i in range(1, len(shards) + 1):
            if i == len(shards) or (shards[i], chunks[i]) != (shards[start], chunks[start]):
                self._add_chunk(shards[start], chunks[start], block.slice(start, i - start))
                start = i

    def _add_chunk(self, shard: int, chunk: int, table: pa.Table) -> None:
        unit = self.open.get(shard)
        if unit is None:
            unit = self.open[shard] = _OpenUnit(self.root, self.phase, self.last, shard, self.reader_labels[shard],
                                                self.writers, self.shard_size)  # fmt: skip
        unit.add_piece(chunk, table)
        while unit.next_chunk in unit.early:
            t = unit.early.pop(unit.next_chunk)
            self.rows += unit.feed(t)
            if t.column("last")[0].as_py():
                self._commit(shard, unit)
                break

    def _commit(self, shard: int, unit: _OpenUnit) -> None:
        del self.open[shard]
        rd = RunDir(self.root)
        if unit.spill is not None:
            unit.spill.close()
            os.replace(unit.spill.name, rd.spill(self.phase.index, shard))
        if unit.partial is not None:
            write_atomic(rd.partial(self.phase.index, shard), pickle.dumps(unit.partial))
        stats = unit.sink.commit()
        stats["metrics"] = unit.metrics
        write_json_atomic(rd.done(self.phase.index, shard), stats)  # last: the unit counts as done only now
        self.on_unit(shard, stats)

    def finish_empty(self, shard: int) -> None:
        """Commit a shard that produced no row at all (its reader yielded nothing)."""
        unit = _OpenUnit(self.root, self.phase, self.last, shard, self.reader_labels[shard], self.writers,
                         self.shard_size)  # fmt: skip
        self.open[shard] = unit
        self._commit(shard, unit)

    def abort(self) -> None:
        """Drop every unit still open (the pipeline failed or was stopped)."""
        for unit in self.open.values():
            unit.abort()
        self.open.clear()

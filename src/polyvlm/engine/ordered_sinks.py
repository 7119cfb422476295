"""Blocks arriving in any order, fed to each unit's output in input order; a unit is committed when complete.

A block may hold several chunks, or a piece of one (Ray Data merges and splits blocks by size): pieces are
put back together by their rows' place in the chunk before the chunk is fed.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from polyvlm.core.step import WriteStep
from polyvlm.engine.phases import Phase
from polyvlm.engine.row_table import table_to_rows
from polyvlm.engine.rows import Row
from polyvlm.engine.unit import Unit, UnitOutput


def _add_metrics(into: dict[str, dict[str, float]], carried: str) -> None:
    for label, counters in json.loads(carried or "{}").items():
        mine = into.setdefault(label, {})
        for k, v in counters.items():
            mine[k] = mine.get(k, 0) + v


class _OpenUnit:
    """One unit being written: its output, the chunks that came early, the partial state and counters so far."""

    def __init__(self, unit: Unit, reader_label: str, writers: list[WriteStep], shard_size: int) -> None:
        self.output = UnitOutput(unit, reader_label, writers, shard_size)
        self.next_chunk = 0
        self.early: dict[int, pa.Table] = {}  # chunks that overtook an earlier one (bounded: work in flight)
        self.pieces: dict[int, list[pa.Table]] = {}  # chunks split between blocks, until complete
        self.metrics: dict[str, dict[str, float]] = {}
        self.observe = unit.phase.observe
        self.partial = self.observe.init_state() if self.observe is not None else None

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
            row.metrics = ""  # the counters travelled with the row; they are the unit's now, not the spill's
            self.output.add(row)
        self.next_chunk += 1
        return len(rows)


class OrderedSinks:
    """The driver's end of a phase on Ray: restores each shard's order per chunk and commits finished units."""

    def __init__(self, root: str, phase: Phase, last: bool, reader_labels: list[str], writers: list[WriteStep],
                 shard_size: int) -> None:  # fmt: skip
        self.root, self.phase, self.last = root, phase, last
        self.reader_labels, self.writers, self.shard_size = reader_labels, writers, shard_size
        self.open: dict[int, _OpenUnit] = {}
        self.rows = 0

    def add_block(self, block: pa.Table) -> Iterator[tuple[Unit, dict[str, Any]]]:
        """Take one block from the pipeline (it may hold several chunks, of one or more shards); yields the
        units it completes, each with its stats, once committed."""
        shards, chunks = block.column("shard").to_pylist(), block.column("chunk").to_pylist()
        start = 0
        for i in range(1, len(shards) + 1):
            if i == len(shards) or (shards[i], chunks[i]) != (shards[start], chunks[start]):
                yield from self._add_chunk(shards[start], chunks[start], block.slice(start, i - start))
                start = i

    def _open(self, shard: int) -> _OpenUnit:
        unit = Unit(self.root, self.phase, self.last, shard)
        self.open[shard] = _OpenUnit(unit, self.reader_labels[shard], self.writers, self.shard_size)
        return self.open[shard]

    def _add_chunk(self, shard: int, chunk: int, table: pa.Table) -> Iterator[tuple[Unit, dict[str, Any]]]:
        unit = self.open.get(shard) or self._open(shard)
        unit.add_piece(chunk, table)
        while unit.next_chunk in unit.early:
            t = unit.early.pop(unit.next_chunk)
            self.rows += unit.feed(t)
            if t.column("last")[0].as_py():
                yield self._commit(shard)
                break

    def _commit(self, shard: int) -> tuple[Unit, dict[str, Any]]:
        unit = self.open.pop(shard)
        return unit.output.unit, unit.output.commit(unit.partial, unit.metrics)

    def finish_empty(self, shard: int) -> tuple[Unit, dict[str, Any]]:
        """Commit a shard that produced no row at all (its reader yielded nothing)."""
        self._open(shard)
        return self._commit(shard)

    def abort(self) -> None:
        """Drop every unit still open (the pipeline failed or was stopped)."""
        for unit in self.open.values():
            unit.output.abort()
        self.open.clear()

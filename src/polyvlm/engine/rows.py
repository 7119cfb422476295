"""Rows: a record (or a reader's issue) with its position in the input and its fate so far."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from polyvlm.core.errors import StopRun
from polyvlm.core.records import Record, record_from_json, record_to_json
from polyvlm.core.remote_fs import download, is_remote
from polyvlm.core.step import (
    Aggregate,
    BatchStep,
    Drop,
    ExpandStep,
    MapStep,
    ReadIssue,
    ReadStep,
    Step,
)

OK, REJECTED, ERROR, SKIPPED = "ok", "rejected", "error", "skipped"
SUB_BASE = 1 << 16  # children per record of one expand step; three nested expansions fit in an int64


@dataclass(slots=True)
class Row:
    """What flows between steps: (shard, idx, sub) orders rows; status says kept, rejected, error or skipped.

    An expand step turns one row into several: the first child keeps the row, the others are new rows
    whose `origin` names that step, so the funnel counts them from there on and still adds up.
    """

    shard: int
    idx: int
    record: Record | None
    phase: int = 0
    status: str = OK
    step: str = ""
    reason: str = ""
    detail: str = ""
    sub: int = 0
    origin: str = ""
    metrics: str = ""  # Ray engine only: step counters (JSON) of the batch this row came out first of

    @property
    def position(self) -> tuple[int, int, int]:
        """The row's place in input order, the same on every engine (what aggregates compare)."""
        return (self.shard, self.idx, self.sub)

    def to_plain(self) -> dict[str, Any]:
        """A flat dict of scalars (the Ray Data row form)."""
        return {
            "shard": self.shard,
            "idx": self.idx,
            "phase": self.phase,
            "status": self.status,
            "step": self.step,
            "reason": self.reason,
            "detail": self.detail,
            "sub": self.sub,
            "origin": self.origin,
            "metrics": self.metrics,
            "rec": record_to_json(self.record) if self.record is not None else "",
        }

    @classmethod
    def from_plain(cls, d: dict[str, Any]) -> Row:
        """Inverse of to_plain."""
        rec = d["rec"]
        return cls(
            int(d["shard"]), int(d["idx"]), record_from_json(rec) if rec else None, int(d["phase"]),
            d["status"], d["step"], d["reason"], d["detail"], int(d.get("sub") or 0), d.get("origin") or "",
            d.get("metrics") or "",
        )  # fmt: skip


def _error_text(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"[:2000]


def read_rows(shard: int, path: str, reader: ReadStep) -> Iterator[Row]:
    """The rows of one input file (local, or a URL fetched to a local copy first); never raises."""
    if not is_remote(path):
        yield from _read_local(shard, path, path, reader)
        return
    with tempfile.TemporaryDirectory(prefix="polyvlm-input-") as tmp:
        local = os.path.join(tmp, os.path.basename(path.split("?", 1)[0]))  # readers look at the suffix
        try:
            download(path, local)
        except Exception as e:  # noqa: BLE001 — an unreachable file ends its shard, not the run
            yield Row(shard, 0, None, 0, ERROR, reader.label, "reader_failed", f"{path}: {_error_text(e)}")
            return
        yield from _read_local(shard, local, path, reader)


def _read_local(shard: int, path: str, source: str, reader: ReadStep) -> Iterator[Row]:
    """A reader that raises ends the file with an error row, not the run; records name `source`."""
    reader.ensure_setup()
    idx = 0
    try:
        for item in reader.read(path):
            if isinstance(item, ReadIssue):
                yield Row(shard, idx, None, 0, item.kind, reader.label, item.reason, item.detail)
            else:
                if source != path:
                    _name_after_url(item, path, source)
                yield Row(shard, idx, item)
            idx += 1
    except Exception as e:  # noqa: BLE001
        yield Row(shard, idx, None, 0, ERROR, reader.label, "reader_failed", f"{source}: {_error_text(e)}")


def _name_after_url(record: Record, local: str, url: str) -> None:
    """A record read from the local copy of a URL names the URL, as if the reader had read the URL itself."""
    if record.provenance.source == local:
        record.provenance.source = url
    if record.id == hashlib.sha1(local.encode()).hexdigest()[:20]:  # read_html names a page by its path
        record.id = hashlib.sha1(url.encode()).hexdigest()[:20]


def _verdict(row: Row, step: Step, result: Record | Drop) -> Row:
    if isinstance(result, Drop):
        row.status, row.step, row.reason, row.detail = REJECTED, step.label, result.reason, result.detail
    else:
        row.record = result
    return row


def _fail(row: Row, step: Step, e: BaseException) -> Row:
    row.status, row.step, row.reason, row.detail = ERROR, step.label, "step_failed", _error_text(e)
    return row


def apply_map(rows: Iterator[Row], step: MapStep) -> Iterator[Row]:
    """Run a map step over the kept rows; others pass through untouched."""
    step.ensure_setup()
    for row in rows:
        if row.status == OK:
            try:
                row = _verdict(row, step, step.apply(row.record))  # type: ignore[arg-type]
            except Exception as e:  # noqa: BLE001 — one bad record must not end the run
                row = _fail(row, step, e)
        yield row


def apply_expand(rows: Iterator[Row], step: ExpandStep) -> Iterator[Row]:
    """Run an expand step: each kept row becomes its children (or is dropped); others pass through."""
    step.ensure_setup()
    for row in rows:
        if row.status != OK:
            yield row
            continue
        try:
            result = step.expand(row.record)  # type: ignore[arg-type]
            if not isinstance(result, Drop) and len(result) > SUB_BASE:
                raise RuntimeError(f"{step.name} made {len(result)} records from one; at most {SUB_BASE}")
        except Exception as e:  # noqa: BLE001
            yield _fail(row, step, e)
            continue
        if isinstance(result, Drop) or not result:
            yield _verdict(row, step, result or Drop("nothing_made"))
            continue
        for k, child in enumerate(result):
            origin, metrics = (
                (row.origin, row.metrics) if k == 0 else (step.label, "")
            )  # the first child is the row
            yield Row(
                row.shard, row.idx, child, row.phase, OK, "", "", "", row.sub * SUB_BASE + k, origin, metrics
            )


def _run_batch(pending: list[Row], step: BatchStep) -> None:
    live = [r for r in pending if r.status == OK]
    if not live:
        return
    try:
        results = step.apply_batch([r.record for r in live])  # type: ignore[misc]
        if len(results) != len(live):
            raise RuntimeError(f"{step.name} returned {len(results)} results for {len(live)} records")
    except StopRun:
        raise  # the unit stays unfinished; a re-run resumes it (paid answers are in the cache)
    except Exception as e:  # noqa: BLE001 — the batch fails, each record is reported
        for r in live:
            _fail(r, step, e)
        return
    for r, result in zip(live, results, strict=True):
        _verdict(r, step, result)


def apply_batch(rows: Iterator[Row], step: BatchStep) -> Iterator[Row]:
    """Run a batched step over the kept rows in input order, batch_size at a time."""
    step.ensure_setup()
    pending: list[Row] = []
    live = 0
    for row in rows:
        pending.append(row)
        live += row.status == OK
        if live >= step.batch_size:
            _run_batch(pending, step)
            yield from pending
            pending, live = [], 0
    _run_batch(pending, step)
    yield from pending


def apply_aggregate(rows: Iterator[Row], agg: Aggregate, state: Any) -> Iterator[Row]:
    """The apply phase of an aggregate, against its merged state."""
    agg.ensure_setup()
    for row in rows:
        if row.status == OK:
            try:
                row = _verdict(row, agg, agg.apply(state, row.record, row.position))  # type: ignore[arg-type]
            except Exception as e:  # noqa: BLE001
                row = _fail(row, agg, e)
        yield row


def apply_steps(rows: Iterator[Row], steps: list[Step]) -> Iterator[Row]:
    """Chain map, expand and batch steps lazily (streaming: one record at a time through the chain)."""
    for step in steps:
        if isinstance(step, BatchStep):
            rows = apply_batch(rows, step)
        elif isinstance(step, ExpandStep):
            rows = apply_expand(rows, step)
        elif isinstance(step, MapStep):
            rows = apply_map(rows, step)
        else:
            raise TypeError(f"{step.name} ({step.kind}) cannot run inside a segment")
    return rows


def observe_rows(rows: Iterator[Row], agg: Aggregate, state: Any) -> Iterator[Row]:
    """Feed the kept rows to an aggregate's observe phase while passing them on."""
    agg.ensure_setup()
    for row in rows:
        if row.status == OK:
            agg.observe(state, row.record, row.position)  # type: ignore[arg-type]
        yield row


def rows_from_jsonl(path: str, phase: int) -> Iterator[Row]:
    """Read spilled rows back, stamped with the phase that now processes them."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = Row.from_plain(json.loads(line))
            row.phase = phase
            yield row

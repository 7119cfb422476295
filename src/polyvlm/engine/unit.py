"""The unit lifecycle, written once: one phase of the recipe on one shard, from its input to its done marker.

    input: phase 0 reads the shard's file, a later phase its shard's spill      unit_rows
      -> the merged aggregate applied -> the phase's steps -> the next aggregate observed
      -> each row routed: outputs or spill, rejects, errors, counters           UnitOutput.add
      -> spill renamed, partial state written, outputs published,               UnitOutput.commit
         the done marker LAST
    a phase's partial states merged once every shard of it is done              run_phases

Resume rests on the done marker alone: a unit is finished if and only if its marker exists, and the marker
is written after everything else the unit publishes. A unit that stops before (a crash, a kill, StopRun)
leaves only temporary files, which the next attempt at it replaces, so a re-run redoes it from its start
and skips the finished ones. The schedulers (engine/local.py, engine/ray.py) decide only where units run
and in which order: `run_phases` hands them the unfinished units of each phase and takes the committed
units' stats back.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from polyvlm.core.recipe import Recipe
from polyvlm.core.remote_fs import download, join_url
from polyvlm.core.step import ReadStep, WriteStep
from polyvlm.engine.catalog import load_builtin_steps
from polyvlm.engine.phases import Phase, phases
from polyvlm.engine.rows import (
    OK,
    Row,
    apply_aggregate,
    apply_steps,
    observe_rows,
    read_rows,
    rows_from_jsonl,
)
from polyvlm.engine.run_dir import RunDir, unit_stem
from polyvlm.engine.shard_sink import ShardSink
from polyvlm.engine.step_metrics import metrics_before, metrics_growth
from polyvlm.io.atomic import TMP_SUFFIX, write_atomic, write_json_atomic


@dataclass(frozen=True)
class Unit:
    """One phase of the recipe on one shard: what a scheduler hands out."""

    root: str  # the run's (local) output directory
    phase: Phase
    last: bool  # the recipe's last phase: kept rows go to the outputs, not to a spill
    shard: int

    @property
    def stem(self) -> str:
        """The file-name stem of the unit's checkpoint and side files."""
        return unit_stem(self.phase.index, self.shard)


def merged_state(root: str, phase: Phase) -> Any:
    """The merged state of the aggregate `phase` applies (None when it applies none)."""
    if phase.apply is None:
        return None
    with open(RunDir(root).merged(phase.index), "rb") as f:
        return pickle.load(f)


def unit_rows(
    unit: Unit, path: str, reader: ReadStep, state: Any, spill_url: str | None = None
) -> tuple[Iterator[Row], Any]:
    """The unit's rows through its phase, as a lazy stream, and the partial state its observation fills.

    `state` is merged_state() of the phase; the partial state (None when the phase observes no aggregate)
    is complete once the stream is. With `spill_url` (the URL the run is published to) a later phase
    reads its spill from there, so a worker on any node can run it."""
    phase = unit.phase
    rows = _input_rows(unit, path, reader, spill_url)
    if phase.apply is not None:
        rows = apply_aggregate(rows, phase.apply, state)
    rows = apply_steps(rows, phase.steps)
    partial = None
    if phase.observe is not None:
        partial = phase.observe.init_state()
        rows = observe_rows(rows, phase.observe, partial)
    return rows, partial


def _input_rows(unit: Unit, path: str, reader: ReadStep, spill_url: str | None) -> Iterator[Row]:
    if unit.phase.index == 0:
        return read_rows(unit.shard, path, reader)
    spill = RunDir(unit.root).spill(unit.phase.index - 1, unit.shard)
    if spill_url is None:  # the output directory is shared with whoever runs the unit
        return rows_from_jsonl(spill, unit.phase.index)
    url = join_url(spill_url, os.path.relpath(spill, unit.root).replace(os.sep, "/"))
    return _downloaded_rows(url, os.path.basename(spill), unit.phase.index)


def _downloaded_rows(url: str, name: str, phase: int) -> Iterator[Row]:
    with tempfile.TemporaryDirectory(prefix="polyvlm-spill-") as tmp:
        local = os.path.join(tmp, name)
        download(url, local)
        yield from rows_from_jsonl(local, phase)


class UnitOutput:
    """Where a unit's rows go: its shard sink, and the spill for the next phase; commit publishes, abort drops."""

    def __init__(self, unit: Unit, reader_label: str, writers: list[WriteStep], shard_size: int) -> None:
        self.unit = unit
        phase = unit.phase
        self.sink = ShardSink(unit.root, phase.index, unit.shard, phase.labels,
                              reader_label if phase.index == 0 else None, writers if unit.last else None,
                              shard_size)  # fmt: skip
        self._spill = None
        if not unit.last:
            path = RunDir(unit.root).spill(phase.index, unit.shard)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            self._spill = open(path + TMP_SUFFIX, "w", encoding="utf-8")

    def add(self, row: Row) -> None:
        """Route one row (kept rows of a phase before the last are spilled for the next one too)."""
        if self._spill is not None and row.status == OK:
            self._spill.write(json.dumps(row.to_plain(), ensure_ascii=False) + "\n")
        self.sink.add(row)

    def commit(self, partial: Any, metrics: dict[str, dict[str, float]]) -> dict[str, Any]:
        """Publish everything the unit wrote, then its done marker; returns its stats."""
        rd, index, shard = RunDir(self.unit.root), self.unit.phase.index, self.unit.shard
        if self._spill is not None:
            self._spill.close()
            os.replace(self._spill.name, rd.spill(index, shard))
        if partial is not None:
            write_atomic(rd.partial(index, shard), pickle.dumps(partial))
        stats = self.sink.commit()
        stats["metrics"] = metrics
        write_json_atomic(rd.done(index, shard), stats)  # last: the unit counts as done only now
        return stats

    def abort(self) -> None:
        """Drop what the unit wrote so far (the next run redoes it from its start)."""
        self.sink.abort()
        if self._spill is not None:
            self._spill.close()
            os.remove(self._spill.name)


def run_unit(
    unit: Unit, path: str, reader: ReadStep, writers: list[WriteStep], shard_size: int
) -> dict[str, Any]:
    """Run one unit to completion in this process and mark it done; returns its stats."""
    rows, partial = unit_rows(unit, path, reader, merged_state(unit.root, unit.phase))
    before = metrics_before(unit.phase.steps)
    output = UnitOutput(unit, reader.label, writers, shard_size)
    try:
        for row in rows:
            output.add(row)
    except BaseException:
        output.abort()
        raise
    return output.commit(partial, metrics_growth(unit.phase.steps, before))


def _finished_stats(root: str, phase: int, shard: int) -> dict[str, Any] | None:
    path = RunDir(root).done(phase, shard)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def merge_partials(root: str, phase: Phase, n_shards: int) -> None:
    """Merge every shard's partial state of the aggregate observed after `phase` (shard order)."""
    agg = phase.observe
    assert agg is not None
    rd = RunDir(root)
    merged = agg.init_state()
    for shard in range(n_shards):
        with open(rd.partial(phase.index, shard), "rb") as f:
            merged = agg.merge(merged, pickle.load(f))
    write_atomic(rd.merged(phase.index + 1), pickle.dumps(merged))


# A scheduler runs the given unfinished units of one phase (where and in which order is its business) and
# yields each unit with its stats once committed.
Schedule = Callable[[list[Unit], tqdm], Generator[tuple[Unit, dict[str, Any]], None, None]]


def run_phases(
    recipe: Recipe,
    root: str,
    schedule: Schedule,
    progress: bool = True,
    on_commit: Callable[[str | None], None] | None = None,
    name: str = "",
) -> list[dict[str, Any]]:
    """Run every unfinished unit through `schedule`, phase by phase; returns all units' stats (earlier or now).

    `on_commit` is called with a unit's file stem after it is committed (a remote output publishes it then),
    and with None after a phase's aggregate states are merged. `name` prefixes the progress bars."""
    load_builtin_steps()  # the sinks look record profiles up by kind; a driver run from Python may lack them
    n = len(recipe.shards)
    plan = phases(recipe)
    units: list[dict[str, Any]] = []
    for phase in plan:
        todo = []
        for shard in range(n):
            stats = _finished_stats(root, phase.index, shard)
            if stats is None:
                todo.append(Unit(root, phase, phase.index == len(plan) - 1, shard))
            else:
                units.append({"phase": phase.index, "shard": shard, "stats": stats})
        desc = f"{name}phase {phase.index + 1}/{len(plan)}" if len(plan) > 1 else f"{name}shards"
        with tqdm(total=n, initial=n - len(todo), desc=desc, unit="shard", disable=not progress) as bar:
            if todo:
                # closing: a failure here (on_commit) stops the scheduler's work in flight at once
                with closing(schedule(todo, bar)) as committed:
                    for unit, stats in committed:
                        units.append({"phase": phase.index, "shard": unit.shard, "stats": stats})
                        bar.update()
                        if on_commit is not None:
                            on_commit(unit.stem)
        if phase.observe is not None and not os.path.exists(RunDir(root).merged(phase.index + 1)):
            merge_partials(root, phase, n)
            if on_commit is not None:
                on_commit(None)
    return units

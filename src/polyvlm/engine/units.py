"""The unit of work: one phase of the recipe on one shard, with its checkpoint files (resume)."""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import dataclass
from typing import Any

from polyvlm.core.recipe import Recipe, segments
from polyvlm.core.step import Aggregate, ReadStep, Step
from polyvlm.engine.rows import OK, apply_aggregate, apply_steps, observe_rows, read_rows, rows_from_jsonl
from polyvlm.engine.shard_sink import ShardSink, unit_stem
from polyvlm.io.atomic import TMP_SUFFIX, write_atomic, write_json_atomic


@dataclass
class Phase:
    """Steps between two aggregates: the aggregate applied first (if any), the steps, the one observed after."""

    index: int
    apply: Aggregate | None
    steps: list[Step]
    observe: Aggregate | None

    @property
    def labels(self) -> list[str]:
        """Labels of the steps that count rows in this phase, in order."""
        return ([self.apply.label] if self.apply else []) + [s.label for s in self.steps]


def phases(recipe: Recipe) -> list[Phase]:
    """The recipe cut at its aggregates."""
    segs = segments(recipe.steps)
    return [
        Phase(i, agg, steps, segs[i + 1][0] if i + 1 < len(segs) else None)
        for i, (agg, steps) in enumerate(segs)
    ]


def step_order(recipe: Recipe) -> list[tuple[str, str]]:
    """(label, name) of every step in recipe order."""
    return [(s.label, s.name) for s in recipe.steps]


class RunDir:
    """Paths inside a run's output directory."""

    def __init__(self, root: str) -> None:
        self.root = root

    def done(self, phase: int, shard: int) -> str:
        """Marker (with stats) of a finished unit."""
        return os.path.join(self.root, "_state", "done", f"{unit_stem(phase, shard)}.json")

    def spill(self, phase: int, shard: int) -> str:
        """Kept rows of a unit, input of the next phase."""
        return os.path.join(self.root, "_state", "work", f"{unit_stem(phase, shard)}.jsonl")

    def partial(self, phase: int, shard: int) -> str:
        """A unit's partial aggregate state."""
        return os.path.join(self.root, "_state", "work", f"{unit_stem(phase, shard)}.state")

    def merged(self, phase: int) -> str:
        """The merged aggregate state applied in `phase`."""
        return os.path.join(self.root, "_state", "work", f"merged-p{phase}.state")

    def load_done(self, phase: int, shard: int) -> dict[str, Any] | None:
        """The stats of a finished unit, or None when it has not finished."""
        path = self.done(phase, shard)
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def unfinished(self, phase: int, shards: int, units: list[dict[str, Any]]) -> list[int]:
        """The shards of a phase still to run; the finished ones' stats are appended to `units`."""
        todo = []
        for shard in range(shards):
            done = self.load_done(phase, shard)
            if done is None:
                todo.append(shard)
            else:
                units.append({"phase": phase, "shard": shard, "stats": done})
        return todo


def run_unit(
    root: str,
    phase: Phase,
    last: bool,
    shard: int,
    path: str,
    reader: ReadStep,
    recipe_outputs: list,
    shard_size: int,
) -> dict[str, Any]:
    """Run one phase on one shard to completion and mark it done; returns its stats."""
    rd = RunDir(root)
    if phase.index == 0:
        rows = read_rows(shard, path, reader)
    else:
        rows = rows_from_jsonl(rd.spill(phase.index - 1, shard), phase.index)
    if phase.apply is not None:
        with open(rd.merged(phase.index), "rb") as f:
            state = pickle.load(f)
        rows = apply_aggregate(rows, phase.apply, state)
    rows = apply_steps(rows, phase.steps)
    before = metrics_before(phase.steps)
    partial = None
    if phase.observe is not None:
        partial = phase.observe.init_state()
        rows = observe_rows(rows, phase.observe, partial)
    sink = ShardSink(
        root, phase.index, shard, phase.labels, reader.label if phase.index == 0 else None,
        recipe_outputs if last else None, shard_size,
    )  # fmt: skip
    spill_path = rd.spill(phase.index, shard)
    spill = None
    if not last:
        os.makedirs(os.path.dirname(spill_path), exist_ok=True)
        spill = open(spill_path + TMP_SUFFIX, "w", encoding="utf-8")
    try:
        for row in rows:
            if spill is not None and row.status == OK:
                spill.write(json.dumps(row.to_plain(), ensure_ascii=False) + "\n")
            sink.add(row)
    except BaseException:
        sink.abort()
        raise
    if spill is not None:
        spill.close()
        os.replace(spill_path + TMP_SUFFIX, spill_path)
    if partial is not None:
        write_atomic(rd.partial(phase.index, shard), pickle.dumps(partial))
    stats = sink.commit()
    stats["metrics"] = metrics_growth(phase.steps, before)
    write_json_atomic(rd.done(phase.index, shard), stats)  # last: the unit counts as done only now
    return stats


def metrics_before(steps: list[Step]) -> dict[str, dict[str, float]]:
    """Each step's counters now, set up first: they are per process, and a client is shared by units."""
    for step in steps:
        step.ensure_setup()
    return {s.label: s.metrics() for s in steps}


def metrics_growth(steps: list[Step], before: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """How much each step's counters grew during a unit (workers run many units: counters are cumulative)."""
    out = {}
    for step in steps:
        start = before.get(step.label, {})
        grown = {k: v - start.get(k, 0) for k, v in step.metrics().items() if v - start.get(k, 0)}
        if grown:
            out[step.label] = grown
    return out


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

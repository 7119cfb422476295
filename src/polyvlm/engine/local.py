"""The local engine: units (phase × shard) run by a pool of worker processes, resumable."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from tqdm import tqdm

from polyvlm.core.recipe import Recipe
from polyvlm.engine.shard_sink import unit_stem
from polyvlm.engine.units import Phase, RunDir, merge_partials, phases, run_unit


def _run_phase(recipe: Recipe, root: str, phase: Phase, last: bool, todo: list[int], workers: int, bar: tqdm):
    """Run the unfinished shards of one phase; yields (shard, stats) as each finishes."""
    shards = recipe.shards

    def args(s: int) -> tuple:
        return (root, phase, last, s, shards[s][0], shards[s][1], recipe.outputs, recipe.shard_size)

    if workers == 1 or len(todo) <= 1:
        for shard in todo:
            yield shard, run_unit(*args(shard))
            bar.update()
        return
    # fork: workers inherit the loaded steps' code; each sets its step up once (Step.ensure_setup)
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=mp.get_context("fork")) as pool:
        pending = {pool.submit(run_unit, *args(s)): s for s in todo}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                yield pending.pop(fut), fut.result()
                bar.update()


def run_local(
    recipe: Recipe,
    root: str,
    workers: int | None = None,
    progress: bool = True,
    on_commit: Callable[[str | None], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every unfinished unit, phase by phase; returns all units' stats (finished earlier or now).

    `on_commit` is called with a unit's file stem after it finishes (a remote output publishes it then),
    and with None after a phase's aggregate states are merged."""
    rd = RunDir(root)
    n = len(recipe.shards)
    plan = phases(recipe)
    workers = max(1, workers or recipe.workers or os.cpu_count() or 1)
    units: list[dict[str, Any]] = []
    for phase in plan:
        todo = rd.unfinished(phase.index, n, units)
        desc = f"phase {phase.index + 1}/{len(plan)}" if len(plan) > 1 else "shards"
        with tqdm(total=n, initial=n - len(todo), desc=desc, unit="shard", disable=not progress) as bar:
            last = phase.index == len(plan) - 1
            for shard, stats in _run_phase(recipe, root, phase, last, todo, workers, bar):
                units.append({"phase": phase.index, "shard": shard, "stats": stats})
                if on_commit is not None:
                    on_commit(unit_stem(phase.index, shard))
        if phase.observe is not None and not os.path.exists(rd.merged(phase.index + 1)):
            merge_partials(root, phase, n)
            if on_commit is not None:
                on_commit(None)
    return units

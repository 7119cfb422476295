"""The local engine: units (phase × shard) run by a pool of worker processes, resumable."""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from tqdm import tqdm

from polyvlm.core.recipe import Recipe
from polyvlm.engine.units import RunDir, merge_partials, phases, run_unit


def run_local(recipe: Recipe, root: str, workers: int | None = None, progress: bool = True) -> list[dict[str, Any]]:
    """Run every unfinished unit, phase by phase; returns all units' stats (finished earlier or now)."""
    rd = RunDir(root)
    shards = recipe.shards
    plan = phases(recipe)
    workers = max(1, workers or recipe.workers or os.cpu_count() or 1)
    units: list[dict[str, Any]] = []
    ctx = mp.get_context("fork")
    for phase in plan:
        last = phase.index == len(plan) - 1
        todo = []
        for shard in range(len(shards)):
            done = rd.load_done(phase.index, shard)
            if done is None:
                todo.append(shard)
            else:
                units.append({"phase": phase.index, "shard": shard, "stats": done})
        desc = f"phase {phase.index + 1}/{len(plan)}" if len(plan) > 1 else "shards"
        bar = tqdm(total=len(shards), initial=len(shards) - len(todo), desc=desc, unit="shard", disable=not progress)
        args = lambda s: (root, phase, last, s, shards[s][0], shards[s][1], recipe.outputs, recipe.shard_size)  # noqa: E731
        if workers == 1 or len(todo) <= 1:
            for shard in todo:
                units.append({"phase": phase.index, "shard": shard, "stats": run_unit(*args(shard))})
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx) as pool:
                pending = {pool.submit(run_unit, *args(s)): s for s in todo}
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        shard = pending.pop(fut)
                        units.append({"phase": phase.index, "shard": shard, "stats": fut.result()})
                        bar.update()
        bar.close()
        if phase.observe is not None and not os.path.exists(rd.merged(phase.index + 1)):
            merge_partials(root, phase, len(shards))
    return units

"""The local engine: a scheduler that runs units (phase × shard) in a pool of forked worker processes.

The unit's lifecycle and resume are engine/unit.py's; this file only decides where units run."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Generator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from functools import partial
from typing import Any

from tqdm import tqdm

from polyvlm.core.recipe import Recipe
from polyvlm.engine.unit import Unit, run_phases, run_unit


def _run_units(
    recipe: Recipe, workers: int, todo: list[Unit], bar: tqdm
) -> Generator[tuple[Unit, dict[str, Any]], None, None]:
    """Run the units here (one worker, or one unit) or in a process pool; yields each as it commits."""

    shards = recipe.shards  # a list built on each call: once per phase, not per unit

    def args(unit: Unit) -> tuple:
        path, reader = shards[unit.shard]
        return (unit, path, reader, recipe.outputs, recipe.shard_size)

    if workers == 1 or len(todo) <= 1:
        for unit in todo:
            yield unit, run_unit(*args(unit))
        return
    # fork: workers inherit the loaded steps' code; each sets its step up once (Step.ensure_setup)
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=mp.get_context("fork")) as pool:
        pending = {pool.submit(run_unit, *args(u)): u for u in todo}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                yield pending.pop(fut), fut.result()


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
    workers = max(1, workers or recipe.workers or os.cpu_count() or 1)
    return run_phases(recipe, root, partial(_run_units, recipe, workers), progress, on_commit)

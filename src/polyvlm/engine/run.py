"""Run a recipe on an engine: prepare (or resume) the output directory, run, finalize."""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

from polyvlm.core.errors import RecipeError
from polyvlm.core.recipe import Recipe
from polyvlm.core.remote_fs import is_remote
from polyvlm.engine.catalog import load_builtin_steps
from polyvlm.engine.finalize import finalize_run
from polyvlm.engine.remote_run import RemoteRun
from polyvlm.io.atomic import write_atomic

ENGINES = ("local", "ray")


def prepare_output(recipe: Recipe, root: str, fresh: bool) -> None:
    """Create the output directory; refuse to resume another recipe's run or to delete a non-run."""
    marker = os.path.join(root, "_state", "recipe.sha256")
    if os.path.isdir(root) and os.listdir(root) and not os.path.exists(marker):
        raise RecipeError(
            f"{root} exists and is not a polyvlm run: choose another --output (nothing was deleted)"
        )
    if fresh and os.path.exists(root):
        shutil.rmtree(root)
    if os.path.exists(marker):
        with open(marker) as f:
            if f.read().strip() != recipe.hash:
                raise RecipeError(
                    f"{root} holds a run of a different recipe (or an edited one); "
                    "use --fresh to start over, or choose another --output"
                )
    os.makedirs(root, exist_ok=True)
    write_atomic(marker, recipe.hash)


def run_recipe(
    recipe: Recipe,
    output: str | None = None,
    engine: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    fresh: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Run a validated recipe; returns the run's stats (also written to <output>/stats.json)."""
    load_builtin_steps()  # the record profiles of the dataset cards register with the shipped steps
    if engine not in ENGINES:
        raise RecipeError(f"unknown engine {engine!r}; valid choices: {', '.join(ENGINES)}")
    for step in [*recipe.steps, *recipe.outputs, *(spec.reader for spec in recipe.inputs)]:
        step.check()  # a missing model or bad path stops the run before any work
    root = output or recipe.output_dir
    started = time.time()
    remote = RemoteRun(root, fresh) if is_remote(root) else None
    work = remote.local if remote else root  # a URL output is staged locally, published unit by unit
    publish = remote.publish if remote else None
    prepare_output(recipe, work, fresh)
    if engine == "ray":
        from polyvlm.engine.ray import run_ray

        units = run_ray(
            recipe, work, ray_address, progress, on_commit=publish, state_url=root if remote else None
        )
    else:
        from polyvlm.engine.local import run_local

        units = run_local(recipe, work, workers, progress, on_commit=publish)
    stats = finalize_run(recipe, work, units, engine, started)
    if remote:
        remote.publish()
    return stats

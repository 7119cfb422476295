"""The Ray engine: each phase a Ray Data pipeline over the unfinished shards; the driver sinks in order, resumable.

Workers read a shard in chunks of CHUNK rows and run the phase's steps on each chunk (one block); blocks
cross processes as Arrow tables with bytes in binary columns. The driver restores each shard's order
chunk by chunk and writes through the same sinks and checkpoint files as the local engine, so a killed
run resumes from its finished units (either engine can finish the other's run).
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
from tqdm import tqdm

from polyvlm.core.errors import RecipeError
from polyvlm.core.recipe import Recipe
from polyvlm.core.remote_fs import download, join_url
from polyvlm.core.step import Aggregate, ReadStep
from polyvlm.engine.ordered_sinks import OrderedSinks
from polyvlm.engine.row_table import rows_to_table, table_to_rows
from polyvlm.engine.rows import Row, apply_aggregate, apply_steps, observe_rows, read_rows, rows_from_jsonl
from polyvlm.engine.units import Phase, RunDir, merge_partials, metrics_before, metrics_growth, phases

# where workers find remote inputs and outputs (credentials are passed, never logged)
STORAGE_ENV = ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
               "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION")  # fmt: skip
CHUNK = 256  # rows per block: what one worker holds of a shard at a time


class _Source:
    """map_batches UDF: shard ids in, each shard's rows out in numbered chunks (streamed, bounded memory)."""

    def __init__(
        self, root: str, phase: int, readers: list[ReadStep], paths: list[str], state_url: str | None
    ):
        self.root, self.phase, self.readers, self.paths, self.state_url = (
            root,
            phase,
            readers,
            paths,
            state_url,
        )

    def _rows(self, shard: int) -> Iterator[Row]:
        if self.phase == 0:
            yield from read_rows(shard, self.paths[shard], self.readers[shard])
            return
        spill = RunDir(self.root).spill(self.phase - 1, shard)
        if self.state_url is None:  # the driver's output directory is shared with the workers
            yield from rows_from_jsonl(spill, self.phase)
            return
        with tempfile.TemporaryDirectory(prefix="polyvlm-spill-") as tmp:  # from the URL, on any node
            local = os.path.join(tmp, os.path.basename(spill))
            download(join_url(self.state_url, os.path.relpath(spill, self.root).replace(os.sep, "/")), local)
            yield from rows_from_jsonl(local, self.phase)

    def __call__(self, batch: pa.Table) -> Iterator[pa.Table]:
        for shard in batch.column("shard").to_pylist():
            chunk: list[Row] = []
            n = 0
            for row in self._rows(shard):
                if len(chunk) >= CHUNK:  # emitted one late, so the shard's last chunk is known as last
                    yield rows_to_table(chunk, n)
                    chunk, n = [], n + 1
                chunk.append(row)
            if chunk:
                yield rows_to_table(chunk, n, last=True)


_STATES: dict[str, Any] = {}  # merged aggregate state, cached in each worker process


class _Phase:
    """map_batches UDF: one chunk through the phase: aggregate applied, steps, aggregate observed."""

    def __init__(self, phase: Phase, state_ref: Any) -> None:
        self.phase, self.state_ref = phase, state_ref

    def _state(self) -> Any:
        import ray

        key = self.state_ref.hex()
        if key not in _STATES:  # one fetch and unpickle per worker process, not per block
            _STATES.clear()
            _STATES[key] = ray.get(self.state_ref)
        return _STATES[key]

    def __call__(self, batch: pa.Table) -> pa.Table:
        # Ray Data may hand over several blocks as one batch: each chunk is run (and labelled) on its own
        keys = list(zip(batch.column("shard").to_pylist(), batch.column("chunk").to_pylist(), strict=True))
        starts = [i for i in range(len(keys)) if i == 0 or keys[i] != keys[i - 1]] + [len(keys)]
        tables = [self._chunk(batch.slice(a, b - a)) for a, b in zip(starts, starts[1:], strict=False)]
        return pa.concat_tables(tables) if tables else batch

    def _chunk(self, block: pa.Table) -> pa.Table:
        phase = self.phase
        chunk, last = block.column("chunk")[0].as_py(), block.column("last")[0].as_py()
        rows: Iterator[Row] = iter(table_to_rows(block))
        before = metrics_before(phase.steps)
        if phase.apply is not None:
            rows = apply_aggregate(rows, phase.apply, self._state())
        rows = apply_steps(rows, phase.steps)
        partial = None
        if phase.observe is not None:
            partial = phase.observe.init_state()
            rows = observe_rows(rows, phase.observe, partial)
        out = list(rows)
        grown = metrics_growth(phase.steps, before)
        if grown and out:  # the counters ride on the chunk's first row to the shard's sink
            carried = json.loads(out[0].metrics or "{}")
            carried.update(grown)
            out[0].metrics = json.dumps(carried)
        return rows_to_table(out, chunk, last, pickle.dumps(partial) if partial is not None else None)


def connect(address: str | None) -> None:
    """Join the cluster at `address`, or start a local Ray when none is given."""
    import logging

    if address:
        token_file = os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.expanduser("~/.ray/auth_token")
        if "RAY_AUTH_MODE" not in os.environ and (
            "RAY_AUTH_TOKEN" in os.environ or os.path.exists(token_file)
        ):
            # Ray >= 2.60 heads require a token; `ray start` leaves it in ~/.ray/auth_token for local
            # clients. Ray reads the mode when it is imported, so this comes first.
            os.environ["RAY_AUTH_MODE"] = "token"
    import ray

    logging.getLogger("ray.data").setLevel(logging.WARNING)
    if ray.is_initialized():
        return
    kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False, "include_dashboard": False}
    storage_env = {k: os.environ[k] for k in STORAGE_ENV if k in os.environ}
    if storage_env:  # workers started by the cluster do not inherit the driver's environment
        kwargs["runtime_env"] = {"env_vars": storage_env}
    if address:
        try:
            ray.init(address=address, **{k: v for k, v in kwargs.items() if k != "include_dashboard"})
        except (ConnectionError, RuntimeError) as e:
            raise RecipeError(
                f"cannot join the Ray cluster at {address}: {e}. Start one with "
                "`ray start --head --node-ip-address=127.0.0.1`, or omit --ray-address to run a local Ray"
            ) from None
    else:
        ray.init(address="local", num_cpus=os.cpu_count(), **kwargs)  # a new one, not any found running


def _merged_state(root: str, agg: Aggregate | None, phase: int) -> Any:
    import ray

    if agg is None:
        return ray.put(None)
    with open(RunDir(root).merged(phase), "rb") as f:
        return ray.put(pickle.load(f))


def _run_phase(recipe: Recipe, root: str, phase: Phase, todo: list[int], bar: tqdm, units: list[dict[str, Any]],
               on_commit: Callable[[], None] | None, state_url: str | None) -> None:  # fmt: skip
    import ray

    shards = recipe.shards
    readers = [r for _, r in shards]
    last = phase.index == len(phases(recipe)) - 1

    def on_unit(shard: int, stats: dict[str, Any]) -> None:
        units.append({"phase": phase.index, "shard": shard, "stats": stats})
        bar.update()
        if on_commit is not None:
            on_commit()

    sinks = OrderedSinks(
        root, phase, last, [r.label for r in readers], recipe.outputs, recipe.shard_size, on_unit
    )
    ds = ray.data.from_items([{"shard": s} for s in todo], override_num_blocks=len(todo))
    ds = ds.map_batches(_Source(root, phase.index, readers, [p for p, _ in shards], state_url), batch_size=1,
                        batch_format="pyarrow")  # fmt: skip
    ds = ds.map_batches(_Phase(phase, _merged_state(root, phase.apply, phase.index)), batch_size=None,
                        batch_format="pyarrow")  # fmt: skip
    try:
        for block in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            sinks.add_block(block)
            bar.set_postfix(rows=sinks.rows, refresh=False)
    except BaseException:
        sinks.abort()
        raise
    if sinks.open:  # a chunk never came: refuse to publish a shard with rows missing
        sinks.abort()
        raise RuntimeError(f"the Ray pipeline ended without the last chunk of shards {sorted(sinks.open)}")
    done = {u["shard"] for u in units if u["phase"] == phase.index}
    for shard in todo:  # a file that yielded no row at all still gets its (empty) unit
        if shard not in done:
            sinks.finish_empty(shard)


def run_ray(
    recipe: Recipe,
    root: str,
    address: str | None = None,
    progress: bool = True,
    on_commit: Callable[[], None] | None = None,
    state_url: str | None = None,
) -> list[dict[str, Any]]:
    """Run the unfinished units on Ray Data, phase by phase; returns all units' stats (earlier or now).

    `on_commit` is called after each unit is committed; with `state_url` (a remote output the driver
    publishes to), workers read the spills between phases from there rather than from `root`."""
    connect(address)  # before `import ray`: it sets the auth mode Ray reads at import
    import ray

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # one bar of our own: shards done and rows, per phase
    ctx.execution_options.preserve_order = False  # the driver restores order per shard, chunk by chunk
    rd = RunDir(root)
    n = len(recipe.shards)
    plan = phases(recipe)
    units: list[dict[str, Any]] = []
    for phase in plan:
        todo = rd.unfinished(phase.index, n, units)
        desc = f"ray phase {phase.index + 1}/{len(plan)}" if len(plan) > 1 else "ray shards"
        with tqdm(total=n, initial=n - len(todo), desc=desc, unit="shard", disable=not progress) as bar:
            if todo:
                _run_phase(recipe, root, phase, todo, bar, units, on_commit, state_url)
        if phase.observe is not None and not os.path.exists(rd.merged(phase.index + 1)):
            merge_partials(root, phase, n)
            if on_commit is not None:
                on_commit()
    return units

"""The Ray engine: a scheduler that runs each phase's unfinished units as a Ray Data pipeline.

A worker reads one shard, runs the phase's steps over it as a stream and sends the output on in numbered
chunks (at most CHUNK rows or about CHUNK_BYTES); chunks cross processes as Arrow tables with bytes in
binary columns, and Ray Data may merge or split them into blocks. The driver reassembles each chunk,
restores each shard's order chunk by chunk and commits each unit through engine/unit.py's lifecycle, the
local engine's, so a killed run resumes from its finished units (either engine can finish the other's run).
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable, Generator, Iterator
from functools import partial
from typing import Any

import pyarrow as pa
from tqdm import tqdm

from polyvlm.core.errors import RecipeError
from polyvlm.core.recipe import Recipe
from polyvlm.core.step import ReadStep
from polyvlm.engine.ordered_sinks import OrderedSinks
from polyvlm.engine.phases import Phase
from polyvlm.engine.row_table import rows_to_table
from polyvlm.engine.rows import Row
from polyvlm.engine.step_metrics import metrics_before, metrics_growth
from polyvlm.engine.unit import Unit, merged_state, run_phases, unit_rows

# where workers find remote inputs and outputs (credentials are passed, never logged)
STORAGE_ENV = ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
               "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION")  # fmt: skip
CHUNK = 256  # rows per chunk: what one worker holds of a shard's output at a time
CHUNK_BYTES = 8 * 2**20  # ... or fewer, when its rows carry this many payload and image bytes
# Ray Data's target block size (its default, 128 MiB, lets a worker merge a whole shard's chunks into one
# block); POLYVLM_RAY_BLOCK_BYTES overrides it. Blocks may merge or split chunks: the driver reassembles.
BLOCK_BYTES = 16 * 2**20


def _payload_bytes(row: Row) -> int:
    rec = row.record
    if rec is None:
        return 0
    raw = getattr(rec, "raw", None)
    return (len(raw) if raw else 0) + sum(len(im.data) for im in rec.images if im.data)


def _chunks(rows: Iterator[Row]) -> Iterator[tuple[list[Row], bool]]:
    """A stream of rows cut into chunks of at most CHUNK rows or about CHUNK_BYTES; (rows, is_last)."""
    chunk: list[Row] = []
    size = 0
    for row in rows:
        if chunk and (len(chunk) >= CHUNK or size >= CHUNK_BYTES):  # cut one row late: the last is known
            yield chunk, False
            chunk, size = [], 0
        chunk.append(row)
        size += _payload_bytes(row)
    if chunk:
        yield chunk, True


_STATES: dict[str, Any] = {}  # merged aggregate state, cached in each worker process


class _ShardPhase:
    """map_batches UDF: shard ids in; each shard's unit rows (engine/unit.py) streamed out in numbered chunks
    (one worker holds a chunk, never a shard)."""

    def __init__(self, root: str, phase: Phase, last: bool, readers: list[ReadStep], paths: list[str],
                 state_url: str | None, state_ref: Any) -> None:  # fmt: skip
        self.root, self.phase, self.last, self.readers, self.paths = root, phase, last, readers, paths
        self.state_url, self.state_ref = state_url, state_ref

    def _state(self) -> Any:
        import ray

        key = self.state_ref.hex()
        if key not in _STATES:  # one fetch and unpickle per worker process, not per shard
            _STATES.clear()
            _STATES[key] = ray.get(self.state_ref)
        return _STATES[key]

    def __call__(self, batch: pa.Table) -> Iterator[pa.Table]:
        for shard in batch.column("shard").to_pylist():
            yield from self._shard(shard)

    def _shard(self, shard: int) -> Iterator[pa.Table]:
        steps = self.phase.steps
        before = metrics_before(steps)
        state = self._state() if self.phase.apply is not None else None
        unit = Unit(self.root, self.phase, self.last, shard)
        rows, partial = unit_rows(unit, self.paths[shard], self.readers[shard], state, self.state_url)
        for n, (chunk, last) in enumerate(_chunks(rows)):
            grown = metrics_growth(steps, before)  # counters are per process: what this chunk added
            before = metrics_before(steps)
            if grown:  # the counters ride on the chunk's first row to the shard's sink
                carried = json.loads(chunk[0].metrics or "{}")
                carried.update(grown)
                chunk[0].metrics = json.dumps(carried)
            agg = pickle.dumps(partial) if last and partial is not None else None
            yield rows_to_table(chunk, n, last, agg)


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


def _run_units(
    recipe: Recipe, state_url: str | None, todo: list[Unit], bar: tqdm
) -> Generator[tuple[Unit, dict[str, Any]], None, None]:
    """Run one phase's units as a Ray Data pipeline; the driver commits each unit as its last chunk comes in."""
    import ray

    phase, last, root = todo[0].phase, todo[0].last, todo[0].root
    readers = [r for _, r in recipe.shards]
    sinks = OrderedSinks(root, phase, last, [r.label for r in readers], recipe.outputs, recipe.shard_size)
    ds = ray.data.from_items([{"shard": u.shard} for u in todo], override_num_blocks=len(todo))
    udf = _ShardPhase(root, phase, last, readers, [p for p, _ in recipe.shards], state_url,
                      ray.put(merged_state(root, phase)))  # fmt: skip
    ds = ds.map_batches(udf, batch_size=1, batch_format="pyarrow")
    committed = set()
    try:
        for block in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            for unit, stats in sinks.add_block(block):
                committed.add(unit.shard)
                yield unit, stats
            bar.set_postfix(rows=sinks.rows, refresh=False)
    except BaseException:
        sinks.abort()
        raise
    if sinks.open:  # a chunk never came: refuse to publish a shard with rows missing
        sinks.abort()
        raise RuntimeError(f"the Ray pipeline ended without the last chunk of shards {sorted(sinks.open)}")
    for unit in todo:  # a file that yielded no row at all still gets its (empty) unit
        if unit.shard not in committed:
            yield sinks.finish_empty(unit.shard)


def run_ray(
    recipe: Recipe,
    root: str,
    address: str | None = None,
    progress: bool = True,
    on_commit: Callable[[str | None], None] | None = None,
    state_url: str | None = None,
) -> list[dict[str, Any]]:
    """Run the unfinished units on Ray Data, phase by phase; returns all units' stats (earlier or now).

    `on_commit` is called with a unit's file stem after it is committed (None after a phase's aggregate
    states are merged); with `state_url` (a remote output the driver
    publishes to), workers read the spills between phases from there rather than from `root`."""
    connect(address)  # before `import ray`: it sets the auth mode Ray reads at import
    import ray

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # one bar of our own: shards done and rows, per phase
    ctx.execution_options.preserve_order = False  # the driver restores order per shard, chunk by chunk
    ctx.target_max_block_size = int(os.environ.get("POLYVLM_RAY_BLOCK_BYTES") or BLOCK_BYTES)
    return run_phases(recipe, root, partial(_run_units, recipe, state_url), progress, on_commit, name="ray ")

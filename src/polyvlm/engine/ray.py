"""The Ray engine: each phase a Ray Data pipeline over the unfinished shards; the driver sinks in order, resumable.

A worker reads one shard, runs the phase's steps over it as a stream and sends the output on in numbered
chunks (at most CHUNK rows or about CHUNK_BYTES); chunks cross processes as Arrow tables with bytes in
binary columns, and Ray Data may merge or split them into blocks. The driver reassembles each chunk,
restores each shard's order chunk by chunk and writes through the same sinks and checkpoint files as the
local engine, so a killed run resumes from its finished units (either engine can finish the other's run).
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
from polyvlm.engine.row_table import rows_to_table
from polyvlm.engine.rows import Row, apply_aggregate, apply_steps, observe_rows, read_rows, rows_from_jsonl
from polyvlm.engine.shard_sink import unit_stem
from polyvlm.engine.units import Phase, RunDir, merge_partials, metrics_before, metrics_growth, phases

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
    """map_batches UDF: shard ids in; each shard read and run through the phase, its output streamed out
    in numbered chunks (one worker holds a chunk, never a shard)."""

    def __init__(self, root: str, phase: Phase, readers: list[ReadStep], paths: list[str],
                 state_url: str | None, state_ref: Any) -> None:  # fmt: skip
        self.root, self.phase, self.readers, self.paths = root, phase, readers, paths
        self.state_url, self.state_ref = state_url, state_ref

    def _state(self) -> Any:
        import ray

        key = self.state_ref.hex()
        if key not in _STATES:  # one fetch and unpickle per worker process, not per shard
            _STATES.clear()
            _STATES[key] = ray.get(self.state_ref)
        return _STATES[key]

    def _rows(self, shard: int) -> Iterator[Row]:
        if self.phase.index == 0:
            yield from read_rows(shard, self.paths[shard], self.readers[shard])
            return
        spill = RunDir(self.root).spill(self.phase.index - 1, shard)
        if self.state_url is None:  # the driver's output directory is shared with the workers
            yield from rows_from_jsonl(spill, self.phase.index)
            return
        with tempfile.TemporaryDirectory(prefix="polyvlm-spill-") as tmp:  # from the URL, on any node
            local = os.path.join(tmp, os.path.basename(spill))
            download(join_url(self.state_url, os.path.relpath(spill, self.root).replace(os.sep, "/")), local)
            yield from rows_from_jsonl(local, self.phase.index)

    def __call__(self, batch: pa.Table) -> Iterator[pa.Table]:
        for shard in batch.column("shard").to_pylist():
            yield from self._shard(shard)

    def _shard(self, shard: int) -> Iterator[pa.Table]:
        phase = self.phase
        before = metrics_before(phase.steps)
        rows = self._rows(shard)
        if phase.apply is not None:
            rows = apply_aggregate(rows, phase.apply, self._state())
        rows = apply_steps(rows, phase.steps)
        partial = None
        if phase.observe is not None:
            partial = phase.observe.init_state()
            rows = observe_rows(rows, phase.observe, partial)
        for n, (chunk, last) in enumerate(_chunks(rows)):
            grown = metrics_growth(phase.steps, before)  # counters are per process: what this chunk added
            before = metrics_before(phase.steps)
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


def _merged_state(root: str, agg: Aggregate | None, phase: int) -> Any:
    import ray

    if agg is None:
        return ray.put(None)
    with open(RunDir(root).merged(phase), "rb") as f:
        return ray.put(pickle.load(f))


def _run_phase(recipe: Recipe, root: str, phase: Phase, todo: list[int], bar: tqdm, units: list[dict[str, Any]],
               on_commit: Callable[[str | None], None] | None, state_url: str | None) -> None:  # fmt: skip
    import ray

    shards = recipe.shards
    readers = [r for _, r in shards]
    last = phase.index == len(phases(recipe)) - 1

    def on_unit(shard: int, stats: dict[str, Any]) -> None:
        units.append({"phase": phase.index, "shard": shard, "stats": stats})
        bar.update()
        if on_commit is not None:
            on_commit(unit_stem(phase.index, shard))

    sinks = OrderedSinks(
        root, phase, last, [r.label for r in readers], recipe.outputs, recipe.shard_size, on_unit
    )
    ds = ray.data.from_items([{"shard": s} for s in todo], override_num_blocks=len(todo))
    udf = _ShardPhase(root, phase, readers, [p for p, _ in shards], state_url,
                      _merged_state(root, phase.apply, phase.index))  # fmt: skip
    ds = ds.map_batches(udf, batch_size=1, batch_format="pyarrow")
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
                on_commit(None)
    return units

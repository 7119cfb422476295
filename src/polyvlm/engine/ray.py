"""The Ray engine: the same steps on Ray Data (map_batches), aggregates as observe → merge → apply."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from polyvlm.core.errors import RecipeError
from polyvlm.core.recipe import Recipe
from polyvlm.core.step import Aggregate, BatchStep, ReadStep, Step, WriteStep
from polyvlm.engine.rows import OK, Row, apply_aggregate, apply_steps, observe_rows, read_rows
from polyvlm.engine.shard_sink import ShardSink
from polyvlm.engine.units import Phase, metrics_before, metrics_growth, phases

ROW_SCHEMA = pa.schema(
    [("shard", pa.int64()), ("idx", pa.int64()), ("phase", pa.int64()), ("status", pa.string()),
     ("step", pa.string()), ("reason", pa.string()), ("detail", pa.string()), ("sub", pa.int64()),
     ("origin", pa.string()), ("metrics", pa.string()), ("rec", pa.large_string())]
)  # fmt: skip
CHUNK = 256  # rows per block a reader emits


def _table(rows: list[Row]) -> pa.Table:
    return pa.Table.from_pylist([r.to_plain() for r in rows], schema=ROW_SCHEMA)


def _rows(batch: pa.Table) -> Iterator[Row]:
    return (Row.from_plain(d) for d in batch.to_pylist())


class _Read:
    """map_batches UDF: one shard descriptor in, its rows out in chunks (streaming, bounded memory)."""

    def __init__(self, readers: list[ReadStep], paths: list[str]) -> None:
        self.readers, self.paths = readers, paths

    def __call__(self, batch: pa.Table) -> Iterator[pa.Table]:
        for shard in batch.column("shard").to_pylist():
            chunk: list[Row] = []
            for row in read_rows(shard, self.paths[shard], self.readers[shard]):
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    yield _table(chunk)
                    chunk = []
            if chunk:
                yield _table(chunk)


class _Steps:
    """map_batches UDF: a run of steps (fused map steps, or one batched step) over a block of rows."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps

    def __call__(self, batch: pa.Table) -> pa.Table:
        before = metrics_before(self.steps)
        rows = list(apply_steps(_rows(batch), self.steps))
        grown = metrics_growth(self.steps, before)
        if grown and rows:  # the counters ride on the batch's first row to the shard's sink
            carried = json.loads(rows[0].metrics or "{}")
            carried.update(grown)
            rows[0].metrics = json.dumps(carried)
        return _table(rows)


class _Observe:
    """map_batches UDF: the observe phase of an aggregate; one partial state per block."""

    def __init__(self, agg: Aggregate) -> None:
        self.agg = agg

    def __call__(self, batch: pa.Table) -> pa.Table:
        import pickle

        state = self.agg.init_state()
        for _ in observe_rows(_rows(batch), self.agg, state):
            pass
        return pa.table({"state": pa.array([pickle.dumps(state)], pa.binary())})


_STATES: dict[str, Any] = {}  # merged aggregate state, cached in each worker process


class _Apply:
    """map_batches UDF: the apply phase of an aggregate against the merged state (from the object store)."""

    def __init__(self, agg: Aggregate, state_ref: Any, phase: int) -> None:
        self.agg, self.state_ref, self.phase = agg, state_ref, phase

    def __call__(self, batch: pa.Table) -> pa.Table:
        import ray

        key = self.state_ref.hex()
        if key not in _STATES:  # one fetch and unpickle per worker process, not per block
            _STATES.clear()
            _STATES[key] = ray.get(self.state_ref)
        state = _STATES[key]
        rows = []
        for row in _rows(batch):
            if row.status == OK:
                row.phase = self.phase
            rows.append(row)
        return _table(list(apply_aggregate(iter(rows), self.agg, state)))


def _segment_ops(steps: list[Step]) -> list[tuple[list[Step], int | None]]:
    """Group steps for map_batches: consecutive map steps fuse; each batched step gets its batch size."""
    ops: list[tuple[list[Step], int | None]] = []
    for step in steps:
        if isinstance(step, BatchStep):
            ops.append(([step], step.batch_size))
        elif ops and ops[-1][1] is None:
            ops[-1][0].append(step)
        else:
            ops.append(([step], None))
    return ops


def _finish_shard(root: str, plan: list[Phase], reader_label: str, writers: list[WriteStep], shard_size: int,
                  shard: int, rows: list[Row]) -> list[dict[str, Any]]:  # fmt: skip
    """Route one shard's final rows through the same sinks as the local engine, phase by phase."""
    rows.sort(key=lambda r: (r.idx, r.sub))
    metrics: dict[str, dict[str, float]] = {}
    for row in rows:
        for label, counters in json.loads(row.metrics or "{}").items():
            mine = metrics.setdefault(label, {})
            for k, v in counters.items():
                mine[k] = mine.get(k, 0) + v
    units = []
    for phase in plan:
        last = phase.index == len(plan) - 1
        sink = ShardSink(root, phase.index, shard, phase.labels, reader_label if phase.index == 0 else None,
                         writers if last else None, shard_size)  # fmt: skip
        for row in rows:
            if row.phase < phase.index:
                continue
            if row.phase > phase.index:  # survived this phase: the local engine spilled it as kept
                row = Row(row.shard, row.idx, row.record, phase.index, sub=row.sub, origin=row.origin)
            sink.add(row)
        units.append({"phase": phase.index, "shard": shard, "stats": sink.commit()})
    if units:
        units[0]["stats"]["metrics"] = metrics
    return units


class _Sink:
    """map_groups UDF: one shard's rows → outputs, rejects, errors; returns the units' stats."""

    def __init__(
        self, root: str, plan: list[Phase], labels: list[str], writers: list[WriteStep], shard_size: int
    ):
        self.args = (root, plan, labels, writers, shard_size)

    def __call__(self, group: pa.Table) -> pa.Table:
        rows = list(_rows(group))
        root, plan, labels, writers, shard_size = self.args
        units = _finish_shard(root, plan, labels[rows[0].shard], writers, shard_size, rows[0].shard, rows)
        return pa.table({"unit": [json.dumps(u) for u in units]})


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
    if address:
        try:
            ray.init(address=address, **{k: v for k, v in kwargs.items() if k != "include_dashboard"})
        except (ConnectionError, RuntimeError) as e:
            raise RecipeError(
                f"cannot join the Ray cluster at {address}: {e}. Start one with "
                "`ray start --head --node-ip-address=127.0.0.1`, or omit --ray-address to run a local Ray"
            ) from None
    else:
        ray.init(num_cpus=os.cpu_count(), **kwargs)


def run_ray(
    recipe: Recipe, root: str, address: str | None = None, progress: bool = True
) -> list[dict[str, Any]]:
    """Run the recipe on Ray Data; writes the same files as the local engine and returns the units' stats."""
    import pickle

    connect(address)  # before `import ray`: it sets the auth mode Ray reads at import
    import ray

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = progress
    shards = recipe.shards
    readers = [r for _, r in shards]
    plan = phases(recipe)
    ds = ray.data.from_items(
        [{"shard": i} for i in range(len(shards))], override_num_blocks=max(1, len(shards))
    )
    ds = ds.map_batches(_Read(readers, [p for p, _ in shards]), batch_size=1, batch_format="pyarrow")
    for phase in plan:
        if phase.apply is not None:
            ds = ds.materialize()  # read twice: observed, then carried on
            states = ds.map_batches(_Observe(phase.apply), batch_format="pyarrow").take_all()
            merged = phase.apply.init_state()
            for s in states:
                merged = phase.apply.merge(merged, pickle.loads(s["state"]))
            ds = ds.map_batches(_Apply(phase.apply, ray.put(merged), phase.index), batch_format="pyarrow")
        for steps, batch_size in _segment_ops(phase.steps):
            ds = ds.map_batches(_Steps(steps), batch_size=batch_size or 512, batch_format="pyarrow")
    labels = [r.label for r in readers]
    sink = _Sink(root, plan, labels, recipe.outputs, recipe.shard_size)
    grouped = ds.groupby("shard", num_partitions=max(1, min(len(shards), 64)))
    out = grouped.map_groups(lambda group: sink(group), batch_format="pyarrow").take_all()
    units = [json.loads(r["unit"]) for r in out]
    seen = {u["shard"] for u in units}
    for shard in range(len(shards)):  # a file that yielded no row at all still gets its (empty) unit
        if shard not in seen:
            units.extend(
                _finish_shard(root, plan, labels[shard], recipe.outputs, recipe.shard_size, shard, [])
            )
    return units

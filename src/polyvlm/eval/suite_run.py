"""Running a suite: each task whose data is on disk is run and scored like `eval run`; the others are
skipped with the path looked for. Writes DIR/suite-<name>.json (rows, headline, tasks counted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from polyvlm.eval.adapters.base import Adapter
from polyvlm.eval.outputs import write_atomic
from polyvlm.eval.registry import get_task
from polyvlm.eval.run import EvalConfig, TaskResult, run_task
from polyvlm.eval.suites import Suite, SuiteRow, suite_headline


def suite_sources(suite: Suite, data_dir: str, data: dict[str, str]) -> dict[str, Path]:
    """Where each task's data is looked for: --data TASK=PATH, else DATA_DIR/<task> (never the hub)."""
    return {t.task: Path(data.get(t.task) or Path(data_dir) / t.task) for t in suite.tasks}


def row_of(metric: str, result: TaskResult) -> SuiteRow:
    """The task's suite row from its scored result: the metric's headline, or why there is none."""
    outcome = next((o for o in result.outcomes if o.metric == metric), None)
    if outcome is None:
        return SuiteRow(result.task, metric, skipped=f"metric {metric} was not scored")
    if outcome.skipped:
        return SuiteRow(result.task, metric, skipped=outcome.skipped)
    if outcome.overall is None:
        return SuiteRow(result.task, metric, skipped="no item could be scored")
    return SuiteRow(result.task, metric, value=float(outcome.overall))


def run_suite(
    suite: Suite,
    sources: dict[str, Path],
    adapter: Adapter,
    config: EvalConfig,
    on_task: Callable[[TaskResult], None] | None = None,
) -> dict[str, Any]:
    """Run every task of the suite that has data; the summary (also written to DIR/suite-<name>.json)."""
    tasks = [(t, get_task(t.task)) for t in suite.tasks]  # unknown names fail before any work
    rows = []
    for entry, task in tasks:
        source = sources[entry.task]
        if not source.exists():
            rows.append(SuiteRow(entry.task, entry.metric, skipped=f"no data at {source}"))
            continue
        result = run_task(task, str(source), adapter, config)
        if on_task is not None:
            on_task(result)
        rows.append(row_of(entry.metric, result))
    headline = suite_headline(rows)
    summary = {
        "suite": suite.name,
        "model": adapter.name,
        "headline": headline,
        "headline_rule": "mean of the scored tasks' headline metrics (each 0-100); skipped tasks left out",
        "tasks_scored": sum(1 for r in rows if not r.skipped),
        "tasks_total": len(rows),
        "rows": [asdict(r) for r in rows],
    }
    write_atomic(
        config.output / f"suite-{suite.name}.json", json.dumps(summary, ensure_ascii=False, indent=2)
    )
    return summary

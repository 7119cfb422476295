"""What a leaderboard shows, read back from run directories: every DIR/<task>/<model>/evaluation.jsonl with
its manifest and a few predictions; runs of one model merged into one row."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polyvlm.eval.answer_files import read_json_lines


@dataclass
class TaskRun:
    """One task answered by one model in one run directory."""

    run: str  # the run directory's name
    task: str
    model: str
    metrics: dict[str, dict[str, Any]]  # metric -> {overall_score, details}
    manifest: dict[str, Any] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)  # older runs of the same model and task, by name

    @property
    def label(self) -> str:
        """How the model is named in the leaderboard: one row per model, whichever runs its tasks came from."""
        return self.model

    def judge_failures(self) -> int:
        """Items a judge failed on, over all metrics and judge runs."""
        return sum(int(v) for v in (self.manifest.get("judge_failures") or {}).values())


def merge_runs(runs: list[TaskRun]) -> list[TaskRun]:
    """One entry per (model, task): the newest run's (by its manifest's `finished`, then the run's name);
    the runs it replaces are named in its `superseded`, so a model evaluated in several runs is one row."""
    by_key: dict[tuple[str, str], list[TaskRun]] = {}
    for r in runs:
        by_key.setdefault((r.model, r.task), []).append(r)
    merged = []
    for group in by_key.values():
        group.sort(key=lambda r: (str(r.manifest.get("finished") or ""), r.run))
        newest = group[-1]
        older = [name for r in group[:-1] for name in (r.run, *r.superseded)]
        merged.append(TaskRun(newest.run, newest.task, newest.model, newest.metrics, newest.manifest,
                              newest.samples, sorted(set(older + newest.superseded))))  # fmt: skip
    return sorted(merged, key=lambda r: (r.task, r.model))


def _read_samples(path: Path, n: int) -> list[dict[str, Any]]:
    """The first `n` rows of prediction.jsonl, through the answers reader (a bad line is an error)."""
    if not path.is_file():
        return []
    rows, _ = read_json_lines(path, torn_tail_ok=True)
    return [row for _, row in rows[:n]]


def collect_runs(dirs: list[Path], samples: int = 3) -> list[TaskRun]:
    """Every evaluation under the directories (a run directory, or one task/model directory of it)."""
    runs = []
    for root in dirs:
        found = sorted(root.glob("*/*/evaluation.jsonl")) or sorted(root.glob("evaluation.jsonl"))
        for ev in found:
            model_dir = ev.parent
            try:
                metrics = json.loads(ev.read_text(encoding="utf-8").splitlines()[0])
            except (ValueError, IndexError):
                continue  # a run killed before scoring has no evaluation yet
            manifest_path = model_dir / "manifest.json"
            manifest = (
                json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
            )
            run_name = (model_dir.parent.parent if model_dir.parent.parent != model_dir else root).name
            runs.append(
                TaskRun(
                    run=run_name or str(root),
                    task=manifest.get("task") or model_dir.parent.name,
                    model=model_dir.name,
                    metrics=metrics,
                    manifest=manifest,
                    samples=_read_samples(model_dir / "prediction.jsonl", samples),
                )
            )
    return runs

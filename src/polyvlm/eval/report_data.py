"""What a leaderboard shows, read back from run directories: every DIR/<task>/<model>/evaluation.jsonl with
its manifest and a few predictions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polyvlm.eval.answer_files import read_json_lines


@dataclass
class TaskRun:
    """One task answered by one model in one run directory."""

    run: str  # the run directory's name (runs of one model in two directories stay apart)
    task: str
    model: str
    metrics: dict[str, dict[str, Any]]  # metric -> {overall_score, details}
    manifest: dict[str, Any] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How the model is named in the leaderboard."""
        return f"{self.model} ({self.run})"

    def judge_failures(self) -> int:
        """Items a judge failed on, over all metrics and judge runs."""
        return sum(int(v) for v in (self.manifest.get("judge_failures") or {}).values())


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

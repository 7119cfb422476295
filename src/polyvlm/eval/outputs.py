"""The files of a scored task, laid out as llm-jp-eval-mm writes them (so its tooling reads ours):
DIR/<task>/<model>/prediction.jsonl (per item, with a column per metric), evaluation.jsonl
(`{metric: {overall_score, details}}`), plus judge.jsonl (every judge verdict) and manifest.json."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from polyvlm.eval.items import EvalItem, Prediction
from polyvlm.eval.prediction_log import reference_text
from polyvlm.eval.scoring import MetricOutcome


def write_atomic(path: Path, text: str) -> None:
    """Write a file whole or not at all (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _jsonl(rows: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)


def evaluation_record(outcomes: Sequence[MetricOutcome]) -> dict[str, Any]:
    """evaluation.jsonl's one line: per metric the headline and its details (CI, counts, categories)."""
    record: dict[str, Any] = {}
    for o in outcomes:
        if o.skipped:
            record[o.metric] = {"overall_score": None, "details": {"skipped": o.skipped}}
            continue
        result = o.combined()
        details = {
            "ci_low": result.ci_low,
            "ci_high": result.ci_high,
            "n": result.n,
            "excluded": result.excluded,
            "by_category": result.by_category,
            **result.details,
            **o.spread(),
            "judge_failures": o.judge_failures(),
        }
        record[o.metric] = {"overall_score": o.overall, "details": details}
    return record


def prediction_rows(
    items: Sequence[EvalItem], predictions: dict[str, Prediction], outcomes: Sequence[MetricOutcome]
) -> list[dict[str, Any]]:
    """prediction.jsonl after scoring: one row per item in task order, a column per metric (None = excluded)."""
    rows = []
    for i, item in enumerate(items):
        pred = predictions.get(item.question_id)
        row: dict[str, Any] = {
            "question_id": item.question_id,
            "text": pred.text if pred else "",
            "answer": reference_text(item),
            "input_text": (pred.input_text if pred else "") or item.prompt,
            "category": item.category,
        }
        if pred is None or pred.error:
            row["error"] = pred.error if pred else "no_prediction"
        excluded = {}
        for o in outcomes:
            if o.skipped:
                continue
            values = [run[i].value for run in o.item_scores]
            present = [v for v in values if v is not None]
            row[o.metric] = sum(present) / len(present) if present else None
            if len(values) > 1:
                row[f"{o.metric}_runs"] = values
            if not present:
                excluded[o.metric] = o.item_scores[0][i].reason
        if excluded:
            row["excluded"] = excluded
        rows.append(row)
    return rows


def judge_rows(outcomes: Sequence[MetricOutcome]) -> list[dict[str, Any]]:
    """Every item score with its detail (the judge's reply and parse), per metric and run."""
    return [
        {"metric": o.metric, "run": run, **asdict(s)}
        for o in outcomes
        for run, scores in enumerate(o.item_scores)
        for s in scores
        if s.detail or s.value is None
    ]


def write_task_outputs(
    out: Path,
    items: Sequence[EvalItem],
    predictions: dict[str, Prediction],
    outcomes: Sequence[MetricOutcome],
    manifest: dict[str, Any],
) -> None:
    """Write prediction.jsonl (rewritten whole, in task order), evaluation.jsonl, judge.jsonl, manifest.json."""
    write_atomic(out / "prediction.jsonl", _jsonl(prediction_rows(items, predictions, outcomes)))
    write_atomic(
        out / "evaluation.jsonl",
        json.dumps(evaluation_record(outcomes), ensure_ascii=False, default=str) + "\n",
    )
    write_atomic(out / "judge.jsonl", _jsonl(judge_rows(outcomes)))
    write_atomic(
        out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n"
    )

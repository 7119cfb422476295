"""manifest.json of a scored task: what ran (task, data, model, judge, prompts, seeds, versions) and what was
left out (judge failures, excluded items, skipped metrics) — enough to tell two runs' numbers apart."""

from __future__ import annotations

import hashlib
import platform
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from polyvlm.eval.items import EvalItem
from polyvlm.eval.scoring import MetricOutcome


def versions() -> dict[str, str]:
    """Versions of python, polyvlm and the libraries that can change a score."""
    found = {"python": platform.python_version()}
    for dist in ("polyvlm", "transformers", "torch", "datasets", "fugashi", "unidic-lite", "rouge-score"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return found


def items_sha256(items: Sequence[EvalItem]) -> str:
    """A digest of what was asked and what was expected (ids, prompts, references, choices)."""
    h = hashlib.sha256()
    for it in items:
        h.update(repr((it.question_id, it.prompt, it.reference, it.choices)).encode())
    return h.hexdigest()


def build_manifest(
    task: Any,
    source: str,
    items: Sequence[EvalItem],
    model: dict[str, Any],
    judge: dict[str, Any] | None,
    outcomes: Sequence[MetricOutcome],
    seed: int,
    prediction_errors: dict[str, str],
) -> dict[str, Any]:
    """The manifest's content."""
    excluded = [
        {"question_id": s.question_id, "metric": o.metric, "run": run, "reason": s.reason}
        for o in outcomes
        for run, scores in enumerate(o.item_scores)
        for s in scores
        if s.value is None
    ]
    return {
        "task": task.name,
        "description": task.description,
        "source": source,
        "items": len(items),
        "items_sha256": items_sha256(items),
        "model": model,
        "judge": judge,
        "metrics": [o.metric for o in outcomes],
        "skipped_metrics": {o.metric: o.skipped for o in outcomes if o.skipped},
        "prompt_sha256s": {o.metric: o.prompt_sha256s for o in outcomes if o.prompt_sha256s},
        "seeds": {"bootstrap": seed, "judge": [seed + r for r in range(judge["runs"])] if judge else []},
        "judge_failures": {o.metric: o.judge_failures() for o in outcomes if not o.skipped},
        "exclusions_by_reason": {o.metric: o.failures() for o in outcomes if not o.skipped},
        "prediction_errors": prediction_errors,
        "excluded_items": excluded,
        "versions": versions(),
        "argv": sys.argv,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }

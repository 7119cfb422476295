"""Scoring a task's predictions with its metrics: items without a usable prediction are excluded with a
reason (never a zero), judge scorers get a judge client per run (`--judge-runs N`: the run index moves
the judge's seed, so each run is its own set of cached calls), and judge failures are counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from polyvlm.clients.chat import ChatClient
from polyvlm.eval.items import EvalItem, ItemScore, Prediction
from polyvlm.eval.judge_runs import combine_runs
from polyvlm.eval.scorer import MetricResult, Scorer

JudgeFactory = Callable[[int], ChatClient]  # run index -> the judge client of that run


@dataclass
class MetricOutcome:
    """One metric of one task and model: per-run results and per-item scores, or why it was skipped."""

    metric: str
    runs: list[MetricResult] = field(default_factory=list)
    item_scores: list[list[ItemScore]] = field(default_factory=list)  # per run, in item order
    skipped: str = ""  # why the metric was not computed (no such scorer, no judge given)
    prompt_sha256s: dict[str, str] = field(default_factory=dict)
    judge_usage: dict[str, float] = field(default_factory=dict)

    def combined(self) -> MetricResult:
        """The runs as one result (`--judge-runs N`: mean of the headlines, CI envelope; see judge_runs)."""
        return self.runs[0] if len(self.runs) == 1 else combine_runs(self.runs)

    @property
    def overall(self) -> float | None:
        """The mean of the runs' headlines (None when no run scored anything)."""
        return self.combined().overall if self.runs else None

    def spread(self) -> dict[str, Any]:
        """Across judge runs: each run's headline, their standard deviation, min and max."""
        values = [r.overall for r in self.runs if r.overall is not None]
        if len(values) < 2:
            return {}
        return {
            "judge_runs": values,
            "judge_run_std": self.combined().details["std"],
            "judge_run_min": min(values),
            "judge_run_max": max(values),
        }

    def failures(self) -> dict[str, int]:
        """Exclusions by reason over all runs (judge failures among them)."""
        counts: Counter[str] = Counter()
        for scores in self.item_scores:
            counts.update(s.reason or "excluded" for s in scores if s.value is None)
        return dict(counts)

    def judge_failures(self) -> int:
        """Items a judge failed on (a call that failed after retries or a reply that did not parse), all runs."""
        return sum(n for reason, n in self.failures().items() if reason.startswith("judge"))


def unusable(item: EvalItem, prediction: Prediction | None) -> str:
    """Why an item cannot be scored ("" when it can)."""
    if prediction is None:
        return "no_prediction"
    if prediction.error:
        return "prediction_failed"
    return ""


def score_metric(
    scorer: Scorer,
    items: Sequence[EvalItem],
    predictions: dict[str, Prediction],
    judge_factory: JudgeFactory | None,
    judge_runs: int,
    seed: int,
) -> MetricOutcome:
    """Score every item with one scorer (once per judge run for a judge scorer) and aggregate each run."""
    outcome = MetricOutcome(scorer.name)
    if scorer.needs_judge and judge_factory is None:
        outcome.skipped = "needs a judge: give --judge"
        return outcome
    usable = [it for it in items if not unusable(it, predictions.get(it.question_id))]
    runs = judge_runs if scorer.needs_judge else 1
    for run in range(runs):
        judge = judge_factory(run) if scorer.needs_judge and judge_factory else None
        scored = scorer.score(usable, [predictions[it.question_id] for it in usable], judge) if usable else []
        if len(scored) != len(usable):
            raise RuntimeError(f"scorer {scorer.name} returned {len(scored)} scores for {len(usable)} items")
        by_id = {s.question_id: s for s in scored}
        scores = [
            by_id.get(it.question_id)
            or ItemScore(it.question_id, None, unusable(it, predictions.get(it.question_id)))
            for it in items
        ]
        outcome.item_scores.append(scores)
        outcome.runs.append(scorer.aggregate(items, scores, seed=seed))
        if judge is not None:
            outcome.judge_usage = judge.usage()
    prompts = getattr(scorer, "prompt_sha256s", None)  # optional: judge scorers name their prompt files
    if callable(prompts):
        outcome.prompt_sha256s = dict(prompts())
    return outcome

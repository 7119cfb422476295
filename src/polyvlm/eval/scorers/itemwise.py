"""The shape most scorers share: each item scored on its own, the headline the mean with a bootstrap CI.

A subclass writes `score_text(item, text) -> ItemScore`; this base pairs items with predictions by
`question_id`, and an item whose prediction failed (`Prediction.error`) or is missing is excluded with
the reason `prediction_failed` / `no_prediction` — counted in `MetricResult.excluded`, never
scored as wrong by accident of the harness. The headline is `scale · mean(values)` (accuracy-like metrics
use `scale = 100`, so 0/1 items report a percentage), with the same per category in `by_category` and
per language in `details["by_language"]` when items carry more than one language.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from polyvlm.clients.chat import ChatClient
from polyvlm.eval.bootstrap import mean_ci
from polyvlm.eval.items import EvalItem, ItemScore, Prediction
from polyvlm.eval.scorer import MetricResult, Scorer


def references_of(item: EvalItem) -> tuple[str, ...]:
    """The item's accepted answers as a tuple (empty when it has none)."""
    if item.reference is None:
        return ()
    return (item.reference,) if isinstance(item.reference, str) else tuple(item.reference)


def paired_predictions(
    items: Sequence[EvalItem], predictions: Sequence[Prediction]
) -> list[Prediction | None]:
    """The prediction of each item (by question_id), None where there is none."""
    by_id = {p.question_id: p for p in predictions}
    return [by_id.get(item.question_id) for item in items]


def prediction_problem(item: EvalItem, prediction: Prediction | None) -> ItemScore | None:
    """The exclusion of an item whose model call failed or left no prediction; None when it can be scored."""
    if prediction is None:
        return ItemScore(item.question_id, None, "no_prediction")
    if prediction.error:
        return ItemScore(item.question_id, None, "prediction_failed", {"error": prediction.error})
    return None


def excluded_counts(scores: Sequence[ItemScore]) -> dict[str, int]:
    """How many items were left out of the mean, by reason."""
    return dict(Counter(s.reason or "excluded" for s in scores if s.value is None))


def mean_result(
    metric: str,
    items: Sequence[EvalItem],
    scores: Sequence[ItemScore],
    seed: int = 0,
    scale: float = 1.0,
) -> MetricResult:
    """`scale · mean` of the scored items, its bootstrap CI, per-category and per-language means."""
    item_of = {item.question_id: item for item in items}
    values = [float(s.value) for s in scores if s.value is not None]
    categories: dict[str, list[float]] = defaultdict(list)
    languages: dict[str, list[float]] = defaultdict(list)
    for s in scores:
        item = item_of.get(s.question_id)
        if s.value is not None and item is not None:
            if item.category:
                categories[item.category].append(float(s.value))
            if item.language:
                languages[item.language].append(float(s.value))
    low, high = mean_ci(values, seed=seed)
    details: dict[str, object] = {"n_items": len(scores)}
    if len(languages) > 1:
        details["by_language"] = {k: scale * float(np.mean(v)) for k, v in sorted(languages.items())}
    return MetricResult(
        metric=metric,
        overall=scale * float(np.mean(values)) if values else None,
        ci_low=None if low is None else scale * low,
        ci_high=None if high is None else scale * high,
        n=len(values),
        excluded=excluded_counts(scores),
        by_category={k: scale * float(np.mean(v)) for k, v in sorted(categories.items())},
        details=details,
    )


class ItemwiseScorer(Scorer):
    """A scorer that looks at one item and its answer at a time; subclasses write `score_text`."""

    scale: ClassVar[float] = 1.0

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """The score of one answer text (value None with a reason when it cannot be scored)."""
        raise NotImplementedError

    def score(
        self,
        items: Sequence[EvalItem],
        predictions: Sequence[Prediction],
        judge: ChatClient | None = None,
    ) -> list[ItemScore]:
        """Score each item (same order as `items`); a failed or missing prediction is excluded."""
        out = []
        for item, prediction in zip(items, paired_predictions(items, predictions), strict=True):
            problem = prediction_problem(item, prediction)
            out.append(problem or self.score_text(item, prediction.text))  # type: ignore[union-attr]
        return out

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """The mean (× `scale`) with its bootstrap CI, per category and language."""
        return mean_result(self.name, items, scores, seed=seed, scale=self.scale)

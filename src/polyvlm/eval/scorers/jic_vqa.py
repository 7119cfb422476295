"""JIC-VQA's metric (llm-jp-eval-mm metrics/jic_vqa_scorer.py): 1 when the reference (the Japanese class
name) is contained in the answer, as is (no normalisation), then averaged per domain (jaflower30,
jafood101, jalandmark10, jafacility20); the headline is the mean of the domain means × 100, so each
domain counts once whatever its size. The CI resamples items within each domain (stratified bootstrap).
The item's domain is `EvalItem.category`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from polyvlm.eval.bootstrap import stratified_ci
from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import MetricResult, register_scorer
from polyvlm.eval.scorers.itemwise import excluded_counts
from polyvlm.eval.scorers.substring import SubstringAsWritten


def mean_of_category_means(
    name: str, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0, scale: float = 100.0
) -> MetricResult:
    """`scale ·` the mean over categories of each category's mean, with a stratified bootstrap CI."""
    category_of = {item.question_id: item.category for item in items}
    values: dict[str, list[float]] = defaultdict(list)
    for s in scores:
        if s.value is not None:
            values[category_of.get(s.question_id, "")].append(float(s.value))
    names = sorted(values)
    arrays = [np.asarray(values[c]) for c in names]

    def statistic(*idx: np.ndarray) -> float:
        return float(np.mean([a[i].mean() for a, i in zip(arrays, idx, strict=True)]))

    overall = statistic(*[np.arange(len(a)) for a in arrays]) if arrays else None
    low, high = stratified_ci([range(len(a)) for a in arrays], statistic, seed=seed)
    return MetricResult(
        metric=name,
        overall=None if overall is None else scale * overall,
        ci_low=None if low is None else scale * low,
        ci_high=None if high is None else scale * high,
        n=sum(len(a) for a in arrays),
        excluded=excluded_counts(scores),
        by_category={c: scale * float(a.mean()) for c, a in zip(names, arrays, strict=True)},
        details={"n_items": len(scores), "headline": "mean of category means"},
    )


@register_scorer
class JICVQAMatch(SubstringAsWritten):
    """Containment of the class name in the answer; the headline averages the domains."""

    name: ClassVar[str] = "jic_vqa"

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """The mean of the domain means × 100, each domain in `by_category`."""
        return mean_of_category_means(self.name, items, scores, seed=seed, scale=self.scale)

"""Japanese Heron-Bench (Inoue et al., 2024): judge-relative score per category, headline the mean of
conv, detail and complex.

Per category `c`: `100 · mean(model scores of c) / mean(reference scores of c)` over the items the
judge scored (see relative_judge for the prompts, fields and exclusions); the headline is the mean of
the three category figures — of those present, with the absent ones listed in
`details["categories_missing"]` (a full Heron-Bench run has all three). The CI resamples items within
each category. `prompt="json"` (default: llm-jp-eval-mm's `{"score_gpt", "score"}` judge) or
`prompt="pairwise"` (Heron's original "two numbers on the first line": the per-category rules of
turingmotors/heron's rule.json and the closing instruction of its eval_heron_bench.py); the two are not comparable, and `details["judge_prompt"]` /
`["judge_prompt_sha256"]` say which one ran. `details` also has the mean model and reference score
per category (`<c>_model`, `<c>_reference`) and `judge_failures`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from polyvlm.eval.bootstrap import ratio_of_means, stratified_ci
from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import MetricResult, register_scorer
from polyvlm.eval.scorers.itemwise import excluded_counts
from polyvlm.eval.scorers.judge_calls import judge_failures
from polyvlm.eval.scorers.relative_judge import RelativeJudge, category_pairs

HERON_CATEGORIES = ("conv", "detail", "complex")


def heron_headline(pairs: dict[str, tuple[np.ndarray, np.ndarray]]) -> float | None:
    """The mean over the Heron categories present of `100 · mean(model) / mean(reference)`."""
    ratios = [ratio_of_means(*pairs[c]) for c in HERON_CATEGORIES if c in pairs]
    ratios = [r for r in ratios if r is not None]
    return float(np.mean(ratios)) if ratios else None


@register_scorer
class HeronJudge(RelativeJudge):
    """Heron-Bench's judge-relative score; the headline is the mean of the three category figures."""

    name: ClassVar[str] = "heron_judge"
    pairwise_prompt: ClassVar[str] = "heron_pairwise"

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """Per-category ratios, their mean, a CI resampling items within categories."""
        pairs = category_pairs(items, scores)
        present = [c for c in HERON_CATEGORIES if c in pairs]

        def resampled(*idx: np.ndarray) -> float | None:
            return heron_headline(
                {c: (pairs[c][0][i], pairs[c][1][i]) for c, i in zip(present, idx, strict=True)}
            )

        low, high = stratified_ci([range(len(pairs[c][0])) for c in present], resampled, seed=seed)
        by_category = {c: r for c in present if (r := ratio_of_means(*pairs[c])) is not None}
        details: dict[str, object] = {f"{c}_model": float(np.mean(pairs[c][0])) for c in present}
        details |= {f"{c}_reference": float(np.mean(pairs[c][1])) for c in present}
        details |= {
            "categories_missing": [c for c in HERON_CATEGORIES if c not in pairs],
            "judge_failures": judge_failures(scores),
            **self.judge_details(),
        }
        return MetricResult(
            metric=self.name,
            overall=heron_headline(pairs),
            ci_low=low,
            ci_high=high,
            n=sum(len(pairs[c][0]) for c in present),
            excluded=excluded_counts(scores),
            by_category=by_category,
            details=details,
        )

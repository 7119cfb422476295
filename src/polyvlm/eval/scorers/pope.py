"""POPE (Li et al., EMNLP 2023), object hallucination by yes/no questions: accuracy, precision, recall, F1
and the share of *predicted* "yes" (the paper's "yes ratio": a model that says yes to everything shows
it here, whatever the gold balance).

"yes" is the positive class. Answers are read by `yes_no.parse_yes_no` (the first yes/no word). An
answer saying neither is wrong and counted (`details["unparsable"]`); unlike POPE's own script it is
not read as "yes" (which flatters recall): on a gold "yes" it is a false negative, on a gold "no" a
wrong answer but no false positive. The yes ratio is predicted yes over all scored answers.

The headline is F1 × 100 with a bootstrap 95 % CI (items resampled); `by_category` gives F1 per
category (POPE's random / popular / adversarial splits); `details` has all five figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from polyvlm.eval.bootstrap import stratified_ci
from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import MetricResult, register_scorer
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, excluded_counts, references_of
from polyvlm.eval.scorers.unparsable import unparsable_count
from polyvlm.eval.scorers.yes_no import parse_yes_no, yes_no_score


def pope_figures(gold_yes: np.ndarray, said_yes: np.ndarray, right: np.ndarray) -> dict[str, float]:
    """Accuracy, precision, recall, F1 and yes ratio (all × 100) from per-item booleans."""
    tp = float(np.sum(gold_yes & said_yes))
    fp = float(np.sum(~gold_yes & said_yes))
    fn = float(np.sum(gold_yes & ~said_yes))  # includes unparsable answers to a gold yes
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": 100.0 * float(np.mean(right)),
        "precision": 100.0 * precision,
        "recall": 100.0 * recall,
        "f1": 100.0 * f1,
        "yes_ratio": 100.0 * float(np.mean(said_yes)),
    }


@register_scorer
class POPE(ItemwiseScorer):
    """POPE's five figures; the headline is F1 (or `headline`: accuracy, precision, recall, yes_ratio)."""

    name: ClassVar[str] = "pope"

    def __init__(self, headline: str = "f1") -> None:
        self.headline = headline

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """1.0 when the yes/no answer is right, else 0.0 (unparsable marked)."""
        return yes_no_score(item, text)

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """The five figures, the headline's bootstrap CI, F1 per category."""
        item_of = {item.question_id: item for item in items}
        kept = [s for s in scores if s.value is not None]
        gold = np.array([parse_yes_no(references_of(item_of[s.question_id])[0]) == "yes" for s in kept])
        said = np.array([s.detail.get("parsed") == "yes" for s in kept], dtype=bool)
        right = np.array([s.value == 1.0 for s in kept], dtype=bool)
        if not kept:
            return MetricResult(self.name, None, excluded=excluded_counts(scores))
        figures = pope_figures(gold, said, right)
        low, high = stratified_ci(
            [range(len(kept))], lambda i: pope_figures(gold[i], said[i], right[i])[self.headline], seed=seed
        )
        per_category: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(kept):
            if item_of[s.question_id].category:
                per_category[item_of[s.question_id].category].append(i)
        by_category = {
            c: pope_figures(gold[idx], said[idx], right[idx])["f1"] for c, idx in sorted(per_category.items())
        }
        return MetricResult(
            metric=self.name,
            overall=figures[self.headline],
            ci_low=low,
            ci_high=high,
            n=len(kept),
            excluded=excluded_counts(scores),
            by_category=by_category,
            details={**figures, "headline": self.headline, "unparsable": unparsable_count(scores)},
        )

"""Circular evaluation (MMBench, Liu et al. 2023): a question counts only if every rotation is right.

A circular task asks each question several times with its options rotated (A B C D, B C D A, ...);
the rotations of one question share `EvalItem.group`. Each rotation is scored like `choice` (the
option letter named, last mention winning; an unparsable answer is wrong and counted), then a group is
right only when all its rotations are. A group with a rotation that could not be scored (its
prediction failed) is excluded (`rotation_excluded`): it can be neither all right nor wrong.
An item without a group is a group of one.

The headline is the percentage of groups right with a bootstrap 95 % CI over groups; `by_category` per
group (its first item's category); `details` has the per-rotation accuracy (`per_item_accuracy`, the
non-circular figure) and the unparsable count.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from polyvlm.eval.bootstrap import mean_ci
from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import MetricResult, register_scorer
from polyvlm.eval.scorers.choice import choice_score
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, excluded_counts
from polyvlm.eval.scorers.unparsable import unparsable_count


def group_outcomes(items: Sequence[EvalItem], scores: Sequence[ItemScore]) -> dict[str, float | None]:
    """Per group: 1.0 when every rotation is right, 0.0 when one is wrong, None when one is unscored."""
    by_id = {s.question_id: s for s in scores}
    groups: dict[str, list[float | None]] = defaultdict(list)
    for item in items:
        score = by_id.get(item.question_id)
        groups[item.group or item.question_id].append(None if score is None else score.value)
    return {
        g: None if any(v is None for v in values) else float(all(v == 1.0 for v in values))
        for g, values in groups.items()
    }


@register_scorer
class CircularChoice(ItemwiseScorer):
    """Multiple-choice accuracy where a question is right only if all its rotations are."""

    name: ClassVar[str] = "circular"

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """One rotation: 1.0 or 0.0 as `choice` scores it."""
        return choice_score(item, text)

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """% of groups with every rotation right, its CI over groups, per category."""
        outcomes = group_outcomes(items, scores)
        category = {}
        for item in items:
            category.setdefault(item.group or item.question_id, item.category)
        values = [v for v in outcomes.values() if v is not None]
        per_category: dict[str, list[float]] = defaultdict(list)
        for g, v in outcomes.items():
            if v is not None and category[g]:
                per_category[category[g]].append(v)
        low, high = mean_ci(values, seed=seed)
        item_values = [s.value for s in scores if s.value is not None]
        excluded = Counter({"rotation_excluded": sum(1 for v in outcomes.values() if v is None)})
        return MetricResult(
            metric=self.name,
            overall=100.0 * float(np.mean(values)) if values else None,
            ci_low=None if low is None else 100.0 * low,
            ci_high=None if high is None else 100.0 * high,
            n=len(values),
            excluded={k: v for k, v in excluded.items() if v},
            by_category={k: 100.0 * float(np.mean(v)) for k, v in sorted(per_category.items())},
            details={
                "n_groups": len(outcomes),
                "n_items": len(scores),
                "per_item_accuracy": 100.0 * float(np.mean(item_values)) if item_values else None,
                "items_excluded": excluded_counts(scores),
                "unparsable": unparsable_count(scores),
            },
        )

"""Scorers that read a value from each answer (an option letter, a count, yes / no): an answer they cannot
read is wrong (0), not left out, and counted in `details["unparsable"]`, so a format problem shows beside
the accuracy instead of hiding in it. The item's detail says `unparsable: True`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import MetricResult
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, mean_result


def unparsable_count(scores: Sequence[ItemScore]) -> int:
    """How many scored answers could not be read (detail `unparsable`)."""
    return sum(1 for s in scores if s.detail.get("unparsable"))


class ParsedAnswerAccuracy(ItemwiseScorer):
    """Accuracy over answers read item by item; the unreadable ones are wrong and counted."""

    scale: ClassVar[float] = 100.0

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """Accuracy in % with its CI and `details["unparsable"]`."""
        result = mean_result(self.name, items, scores, seed=seed, scale=self.scale)
        result.details["unparsable"] = unparsable_count(scores)
        return result

"""Substring match: a normalised reference occurs inside the normalised answer (a free-form reply that
contains the short gold answer counts as right). Per item 1 or 0; headline in %, bootstrap 95 % CI.
"""

from __future__ import annotations

from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.answer_text import normalize_answer
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, references_of


@register_scorer
class SubstringMatch(ItemwiseScorer):
    """1 when any non-empty normalised reference is a substring of the normalised answer."""

    name: ClassVar[str] = "substring_match"
    scale: ClassVar[float] = 100.0

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """1.0 or 0.0; an item without a (non-empty) reference is excluded (`no_reference`)."""
        refs = [normalize_answer(r) for r in references_of(item)]
        refs = [r for r in refs if r]  # "" is in every string: it would make every answer right
        if not refs:
            return ItemScore(item.question_id, None, "no_reference")
        answer = normalize_answer(text)
        return ItemScore(item.question_id, 1.0 if any(r in answer for r in refs) else 0.0)

"""Exact match: the answer equals one of the references after normalisation (NFKC, whitespace, case, and a
final full stop dropped, as lmms-eval's RealWorldQA reads "B." as "B").

Per item 1 or 0; the headline is the percentage of items right, with a bootstrap 95 % CI. Set
`casefold=False` where case carries meaning (codes, chemical formulas).
"""

from __future__ import annotations

from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.answer_text import normalize_answer
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, references_of


def _bare(text: str, casefold: bool) -> str:
    return normalize_answer(text, casefold).removesuffix(".").rstrip()


@register_scorer
class ExactMatch(ItemwiseScorer):
    """1 when the normalised answer equals a normalised reference, else 0."""

    name: ClassVar[str] = "exact_match"
    scale: ClassVar[float] = 100.0

    def __init__(self, casefold: bool = True) -> None:
        self.casefold = casefold

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """1.0 or 0.0; an item without a reference is excluded (`no_reference`)."""
        refs = references_of(item)
        if not refs:
            return ItemScore(item.question_id, None, "no_reference")
        answer = _bare(text, self.casefold)
        hit = any(answer == _bare(r, self.casefold) for r in refs)
        return ItemScore(item.question_id, 1.0 if hit else 0.0)

"""MTVQA's accuracy (Tang et al., 2024, the benchmark's own evaluation): prediction and reference are
lower-cased, trimmed and stripped of every '.', and the item is right when the reference is contained in
the prediction. Per item 1 or 0; headline in % with a bootstrap 95 % CI, and per language in
`details["by_language"]` (MTVQA reports each of its nine languages).

Deliberately not NFKC-normalised: the published figures were computed without it.
"""

from __future__ import annotations

from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, references_of


def mtvqa_normalize(text: str) -> str:
    """MTVQA's rule: lower case, strip, remove '.'."""
    return text.lower().strip().replace(".", "")


@register_scorer
class MTVQAContains(ItemwiseScorer):
    """1 when a (normalised, non-empty) reference is contained in the normalised prediction."""

    name: ClassVar[str] = "mtvqa"
    scale: ClassVar[float] = 100.0

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """1.0 or 0.0; an item without a reference is excluded (`no_reference`)."""
        refs = [r for r in (mtvqa_normalize(r) for r in references_of(item)) if r]
        if not refs:
            return ItemScore(item.question_id, None, "no_reference")
        answer = mtvqa_normalize(text)
        return ItemScore(item.question_id, 1.0 if any(r in answer for r in refs) else 0.0)

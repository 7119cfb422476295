"""Substring match: a normalised reference occurs inside the normalised answer (a free-form reply that
contains the short gold answer counts as right). Per item 1 or 0; headline in %, bootstrap 95 % CI.
`SubstringAsWritten` tests the texts as written (llm-jp-eval-mm's `ref in pred`: JIC-VQA, MECHA-ja).
"""

from __future__ import annotations

from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.answer_text import normalize_answer
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, references_of


def substring_score(item: EvalItem, text: str, normalized: bool = True) -> ItemScore:
    """1.0 when any non-empty reference is a substring of the answer, else 0.0; both normalised first
    (`normalize_answer`) unless `normalized` is False. No such reference: excluded (`no_reference`)."""
    normalize = normalize_answer if normalized else str
    refs = [normalize(r) for r in references_of(item)]
    refs = [r for r in refs if r]  # "" is in every string: it would make every answer right
    if not refs:
        return ItemScore(item.question_id, None, "no_reference")
    answer = normalize(text)
    return ItemScore(item.question_id, 1.0 if any(r in answer for r in refs) else 0.0)


@register_scorer
class SubstringMatch(ItemwiseScorer):
    """1 when any non-empty normalised reference is a substring of the normalised answer."""

    name: ClassVar[str] = "substring_match"
    scale: ClassVar[float] = 100.0

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """1.0 or 0.0; an item without a (non-empty) reference is excluded (`no_reference`)."""
        return substring_score(item, text)


class SubstringAsWritten(ItemwiseScorer):
    """Base of the scorers whose anchor tests `ref in pred` as is (no normalisation); headline in %."""

    scale: ClassVar[float] = 100.0

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """1.0 or 0.0 (the anchor's `ref in pred`); no reference is excluded (`no_reference`)."""
        return substring_score(item, text, normalized=False)

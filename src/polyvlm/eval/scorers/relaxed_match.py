"""Relaxed accuracy (ChartQA, Masry et al. 2022): a numeric answer is right within 5 % relative error of
a numeric reference; any other answer must match exactly after normalisation (NFKC, whitespace, case).

Numbers are read after removing thousands separators, a trailing '%' and surrounding spaces, so
"1,234" and "1234" agree and "12%" reads as 12. A reference of 0 needs an exact 0. Per item 1 or 0;
headline in % with a bootstrap 95 % CI.
"""

from __future__ import annotations

from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.answer_text import normalize_answer
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, references_of


def as_number(text: str) -> float | None:
    """The number a short answer states ("1,234", "12%", " 3.5 "), or None."""
    text = normalize_answer(text).replace(",", "").removesuffix("%").strip()
    try:
        return float(text)
    except ValueError:
        return None


def relaxed_equal(answer: str, reference: str, tolerance: float = 0.05) -> bool:
    """Within `tolerance` relative error when both are numbers, else normalised equality."""
    a, r = as_number(answer), as_number(reference)
    if a is not None and r is not None:
        return a == r if r == 0 else abs(a - r) / abs(r) <= tolerance
    return normalize_answer(answer) == normalize_answer(reference)


@register_scorer
class RelaxedMatch(ItemwiseScorer):
    """1 when the answer relaxed-equals any reference, else 0."""

    name: ClassVar[str] = "relaxed_match"
    scale: ClassVar[float] = 100.0

    def __init__(self, tolerance: float = 0.05) -> None:
        self.tolerance = tolerance

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """1.0 or 0.0; an item without a reference is excluded (`no_reference`)."""
        refs = references_of(item)
        if not refs:
            return ItemScore(item.question_id, None, "no_reference")
        hit = any(relaxed_equal(text, r, self.tolerance) for r in refs)
        return ItemScore(item.question_id, 1.0 if hit else 0.0)

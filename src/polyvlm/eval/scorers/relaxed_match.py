"""Relaxed accuracy (ChartQA, Masry et al. 2022), as its reference code (pix2struct's `relaxed_correctness`,
used by lmms-eval and VLMEvalKit) computes it: when the answer and a non-zero reference both read as
numbers, the answer is right within 5 % relative error of the reference; otherwise the two must be equal
ignoring case.

A number is what Python's `float` reads, a trailing '%' dividing by 100 ("12%" is 0.12); so "1,234" is
not a number (it is compared as text) and a reference of 0 is compared as text. The one departure: the
answer is trimmed of surrounding whitespace first (models end with a newline; the reference code would
then compare "yes\\n" to "yes"). Per item 1 or 0; headline in % with a bootstrap 95 % CI.
"""

from __future__ import annotations

from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, references_of


def as_number(text: str) -> float | None:
    """The number a short answer is ("12", "3.5", "12%" as 0.12), or None."""
    try:
        return float(text.rstrip("%")) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        return None


def relaxed_equal(answer: str, reference: str, tolerance: float = 0.05) -> bool:
    """Within `tolerance` relative error of a non-zero numeric reference, else equal ignoring case."""
    answer = answer.strip()
    a, r = as_number(answer), as_number(reference)
    if a is not None and r:
        return abs(a - r) / abs(r) <= tolerance
    return answer.lower() == reference.lower()


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

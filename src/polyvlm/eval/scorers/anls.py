"""ANLS, Average Normalized Levenshtein Similarity (Biten et al., ICCV 2019; DocVQA, ST-VQA).

Per item: max over references of `1 - NL` where `NL = levenshtein(a, r) / max(len(a), len(r))` on the
normalised strings (NFKC, whitespace collapsed, case-folded), and 0 when `NL >= threshold` (0.5: an
answer more than half wrong earns nothing rather than partial credit). The headline is the mean × 100,
with a bootstrap 95 % CI. Edit distance by rapidfuzz (C++), in characters, so Japanese works as is.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.answer_text import normalize_answer
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, references_of
from polyvlm.eval.scorers.scorer_packages import needed


@cache
def _edit_distance() -> Callable[[str, str], int]:
    return needed("rapidfuzz.distance").Levenshtein.distance


@lru_cache(maxsize=1 << 16)
def _normalized_reference(text: str) -> str:  # references repeat across items and runs
    return normalize_answer(text)


def _similarity(a: str, r: str, threshold: float) -> float:
    if not a and not r:
        return 1.0
    distance = _edit_distance()(a, r) / max(len(a), len(r))
    return 0.0 if distance >= threshold else 1.0 - distance


def anls_one(answer: str, reference: str, threshold: float = 0.5) -> float:
    """The normalized Levenshtein similarity of one answer to one reference, 0 past the threshold."""
    return _similarity(normalize_answer(answer), _normalized_reference(reference), threshold)


@register_scorer
class ANLS(ItemwiseScorer):
    """The best ANLS of the answer over the item's references."""

    name: ClassVar[str] = "anls"
    scale: ClassVar[float] = 100.0

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """A similarity in [0, 1]; an item without a reference is excluded (`no_reference`)."""
        refs = references_of(item)
        if not refs:
            return ItemScore(item.question_id, None, "no_reference")
        answer = normalize_answer(text)  # once, whatever the number of references
        best = 0.0
        for r in refs:  # a loop, not max() over a generator: this is the whole cost per item
            best = max(best, _similarity(answer, _normalized_reference(r), self.threshold))
        return ItemScore(item.question_id, best)

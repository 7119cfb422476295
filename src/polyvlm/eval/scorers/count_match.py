"""Counting accuracy (CountBenchQA and counting sets like it): the count the answer states equals the reference.

The count is the last number in the answer, as digits ("7", "1,200") or an English number word from zero to
twenty ("seven"), so "There are seven dogs." reads 7 and "I see 3, no, 4" reads 4. An answer stating no
number is **unparsable: wrong and counted** (`details["unparsable"]`). Per item 1 or 0; headline in %
with a bootstrap 95 % CI.
"""

from __future__ import annotations

import re
from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.answer_text import normalize_answer
from polyvlm.eval.scorers.itemwise import references_of
from polyvlm.eval.scorers.unparsable import ParsedAnswerAccuracy

WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen twenty").split()  # fmt: skip
NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?![\w.]\d)|\b(" + "|".join(WORDS) + r")\b")


def stated_count(text: str) -> int | None:
    """The last count an answer states, or None."""
    found = NUMBER.findall(normalize_answer(text))
    if not found:
        return None
    digits, word = found[-1]
    return int(digits.replace(",", "")) if digits else WORDS.index(word)


@register_scorer
class CountMatch(ParsedAnswerAccuracy):
    """1 when the stated count equals the reference count; an answer with no number is wrong, counted."""

    name: ClassVar[str] = "count_match"

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """1.0 or 0.0; an item without a numeric reference is excluded (`no_reference`)."""
        refs = [c for c in (stated_count(r) for r in references_of(item)) if c is not None]
        if not refs:
            return ItemScore(item.question_id, None, "no_reference")
        count = stated_count(text)
        detail: dict[str, object] = {"extracted": count}
        if count is None:
            detail["unparsable"] = True
        return ItemScore(item.question_id, 1.0 if count in refs else 0.0, detail=detail)

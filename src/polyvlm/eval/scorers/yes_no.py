"""Yes/no answers (POPE, MME, and any binary question): the answer's first yes or no word decides.

The words, in the languages polyvlm evaluates: yes / no (en), はい / いいえ (ja), oui / non (fr),
ja / nein (de), sì / no (it), sí / no (es). An answer with neither is *unparsable*: wrong, and counted
(`details["unparsable"]`), never guessed. The first marker wins because models answer first and explain
after ("No, there is no dog; a cat is ..."). Per item 1 or 0; headline in % with a bootstrap 95 % CI.
"""

from __future__ import annotations

import re
from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.answer_text import normalize_answer
from polyvlm.eval.scorers.itemwise import references_of
from polyvlm.eval.scorers.unparsable import ParsedAnswerAccuracy

YES_WORDS = ("yes", "oui", "ja", "sì", "si", "sí", "はい")
NO_WORDS = ("no", "non", "nein", "いいえ")
# Latin words at word boundaries; はい/いいえ not inside a longer kana word (はいります is "enters")
_MARKER = re.compile(
    r"(?<![\w])(yes|oui|ja|sì|si|sí|no|non|nein)(?![\w])|(?<![ぁ-ゖ])(はい|いいえ)(?![ぁ-ゖ])"
)


def parse_yes_no(text: str) -> str | None:
    """ "yes", "no", or None when the answer says neither."""
    match = _MARKER.search(normalize_answer(text))
    if match is None:
        return None
    word = match.group(1) or match.group(2)
    return "yes" if word in YES_WORDS else "no"


def yes_no_score(item: EvalItem, text: str) -> ItemScore:
    """1 when the parsed answer equals the reference's yes/no; unparsable is 0 with detail `unparsable`."""
    refs = references_of(item)
    gold = parse_yes_no(refs[0]) if refs else None
    if gold is None:
        return ItemScore(item.question_id, None, "no_reference")
    answer = parse_yes_no(text)
    detail = {"parsed": answer} if answer else {"parsed": None, "unparsable": True}
    return ItemScore(item.question_id, 1.0 if answer == gold else 0.0, detail=detail)


@register_scorer
class YesNo(ParsedAnswerAccuracy):
    """Accuracy of yes/no answers; unparsable answers are wrong and counted."""

    name: ClassVar[str] = "yes_no"

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """1.0 or 0.0 (see `yes_no_score`)."""
        return yes_no_score(item, text)

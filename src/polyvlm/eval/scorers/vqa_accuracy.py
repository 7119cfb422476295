"""VQA accuracy (Antol et al. 2015; VQA v2, TextVQA, OK-VQA): an answer counts as far as people gave it.

Per item, with the item's human answers (ten in these sets) as `reference`: for each human left out in
turn, `min(#other humans who gave the answer / 3, 1)`; the item's score is the mean of those, as the
official script (GT-Vision-Lab/VQA `vqaEval.py`, BSD-2) computes it. An answer 2 of 10 people gave:
the 2 sets that drop one of them hold 1 match (1/3), the other 8 hold 2 (2/3): (2·1/3 + 8·2/3)/10 = 0.6;
3 of 10 gives 0.9; 4 or more give 1.

Normalisation (`normalize_vqa`, the official `processPunctuation` then `processDigitArticle`): each of
``; / [ ] " { } ( ) = + \\ _ - > < @ ` , ? !`` is deleted when it touches a space or the text has a
digit-comma-digit, else replaced by a space; a period not followed by a digit is deleted (at most 32, as
the official call passes re.UNICODE where the count goes); lower-case; number words none/zero…ten become
digits; the articles a/an/the go; apostrophe-less contractions are restored ("dont" → "don't").
The prediction is normalised first (a raw model answer, unlike a challenge submission, is not; lmms-eval
likewise processes it), then, as `vqaEval.py`
does, newlines and tabs become spaces and the human answers are normalised (and the prediction once
more) only when the humans disagree: where all agree, their answer is compared as given.
Headline: mean × 100 with a bootstrap 95 % CI.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, references_of
from polyvlm.eval.scorers.vqa_contractions import CONTRACTIONS

PUNCT = (
    ";",
    "/",
    "[",
    "]",
    '"',
    "{",
    "}",
    "(",
    ")",
    "=",
    "+",
    "\\",
    "_",
    "-",
    ">",
    "<",
    "@",
    "`",
    ",",
    "?",
    "!",
)
PUNCT_CHARS = frozenset(PUNCT) | {"."}
NUMBER_WORDS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}  # fmt: skip
ARTICLES = frozenset({"a", "an", "the"})
# the official pattern: its "(?!<=\d)" was meant as a look-behind but is a look-ahead, so only "(?!\d)" acts
PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")
COMMA_STRIP = re.compile(r"(\d)(\,)(\d)")
OFFICIAL_PERIOD_COUNT = int(re.UNICODE)  # 32: the official passes the flag as `count`


def _punctuation(text: str) -> str:
    if PUNCT_CHARS.isdisjoint(text):  # most answers: nothing to do
        return text
    digit_comma = COMMA_STRIP.search(text) is not None
    out = text
    for p in PUNCT:
        if p in out:  # an absent mark changes nothing either way
            drop = (
                digit_comma or (p + " " in text) or (" " + p in text)
            )  # tested on the input, as the official
            out = out.replace(p, "" if drop else " ")
    return PERIOD_STRIP.sub("", out, OFFICIAL_PERIOD_COUNT)


def _digits_articles(text: str) -> str:
    words = [NUMBER_WORDS.get(w, w) for w in text.lower().split()]
    return " ".join(CONTRACTIONS.get(w, w) for w in words if w not in ARTICLES)


@lru_cache(maxsize=1 << 16)
def normalize_vqa(text: str) -> str:
    """The official VQA answer normalisation: punctuation, then digits, articles and contractions."""
    return _digits_articles(_punctuation(text))


def _clean(text: str) -> str:
    return text.replace("\n", " ").replace("\t", " ").strip()


def vqa_accuracy(answer: str, humans: Sequence[str]) -> float:
    """The official VQA accuracy of one answer against the human answers, in [0, 1]."""
    pred = _clean(normalize_vqa(answer))
    gts = [_clean(h) for h in humans]
    if len(set(gts)) > 1:
        gts = [normalize_vqa(g) for g in gts]
        pred = normalize_vqa(pred)
    matches = gts.count(pred)
    # leave each human out in turn; summed in the official order so the float is the official one
    per_set = [min(1, float(matches - (g == pred)) / 3) for g in gts]
    return float(sum(per_set)) / len(per_set)


@register_scorer
class VQAAccuracy(ItemwiseScorer):
    """The official VQA accuracy over the item's human answers."""

    name: ClassVar[str] = "vqa_accuracy"
    scale: ClassVar[float] = 100.0

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """A value in [0, 1]; an item without human answers is excluded (`no_reference`)."""
        humans = references_of(item)
        if not humans:
            return ItemScore(item.question_id, None, "no_reference")
        return ItemScore(item.question_id, vqa_accuracy(text, humans))

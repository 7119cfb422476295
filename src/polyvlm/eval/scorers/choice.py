"""Multiple-choice accuracy: which option the answer names, the last mention winning (JMMMU, MMMB, MMBench).

Extraction, on the NFKC-normalised answer (full-width （Ａ） reads as (A)), from the item's option
letters (`EvalItem.choices` keys):
1. the letter in the forms models write it, each one pattern of `LETTER_FORMS`: `(A)`, `[A]`, `「A」`,
   `答え：A` / `答えはA`, `正解はA` / `正解：A`, `回答：A`, `Answer: A` / `the answer is A`,
   `option A` / `選択肢A`, `A.` / `A)` / `A:`, and a bare letter standing alone (not inside a word;
   "B is right" counts, but "A" and "I" before a lower-case word are the article and the pronoun);
2. only when no letter is found, the option's text itself (normalised, case-folded) in the answer.
Across all forms the *last* match in the answer wins: a model that weighs (A) and then settles on B is
read as B. An answer naming no option is **unparsable: wrong, and counted** (`details["unparsable"]`);
it is a random pick only when the scorer is built with `random_seed`, and then drawn from a generator
seeded by (seed, question_id), so the pick never depends on the order items are scored in. No state is
kept between items (the anchors mutate a module-level list per sample; their indicator list also fuses
two strings for want of a comma — here each form is its own tuple entry, and a test checks both).

Per item 1 or 0; headline in % with a bootstrap 95 % CI.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import MetricResult, register_scorer
from polyvlm.eval.scorers.answer_text import normalize_answer
from polyvlm.eval.scorers.itemwise import references_of
from polyvlm.eval.scorers.unparsable import ParsedAnswerAccuracy

# one entry per form; `{L}` is the alternation of the item's letters. (?i) where models vary the case.
LETTER_FORMS: tuple[str, ...] = (
    r"(?i)\(\s*({L})\s*\)",  # (A)
    r"(?i)\[\s*({L})\s*\]",  # [A]
    r"(?i)「\s*({L})\s*」",  # 「A」
    r"(?i)『\s*({L})\s*』",  # 『A』
    r"答え\s*(?:は|:)?\s*({L})(?![A-Za-z])",  # 答え:A, 答えはA
    r"正解\s*(?:は|:)?\s*({L})(?![A-Za-z])",  # 正解はA, 正解:A
    r"回答\s*(?:は|:)?\s*({L})(?![A-Za-z])",  # 回答:A
    r"選択肢\s*({L})(?![A-Za-z])",  # 選択肢A
    r"(?i)answer\s*(?:is|:)?\s*({L})(?![A-Za-z])",  # Answer: A, the answer is A
    r"(?i)option\s*({L})(?![A-Za-z])",  # option A
    r"(?<![A-Za-z])({L})\s*[.):](?!\d)",  # A. A) A:
    r"(?<![A-Za-z'’])({L})(?![A-Za-z'’])(?!(?<=[AI])\s+[a-z])",  # bare B; A / I not before a word ("A cat")
)


@lru_cache(maxsize=64)
def _letter_patterns(letters: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    alternation = "|".join(re.escape(x) for x in sorted(letters, key=len, reverse=True))
    return tuple(re.compile(form.replace("{L}", alternation)) for form in LETTER_FORMS)


def _canonical_letter(found: str, letters: tuple[str, ...]) -> str:
    return next((x for x in letters if x.casefold() == found.casefold()), found)


def extract_choice(text: str, choices: dict[str, str]) -> str | None:
    """The option letter the answer names (last mention wins), or None when it names none."""
    answer = normalize_answer(text, casefold=False)
    letters = tuple(choices)
    best: tuple[int, int, str] | None = None  # (end, length, letter): the latest, then the longest
    for pattern in _letter_patterns(letters):
        for match in pattern.finditer(answer):
            key = (match.end(1), match.end() - match.start(), _canonical_letter(match.group(1), letters))
            best = key if best is None or key[:2] > best[:2] else best
    if best is not None:
        return best[2]
    folded = answer.casefold()
    best = None
    for letter, option in choices.items():
        option_text = normalize_answer(option) if isinstance(option, str) else ""  # absent options: None
        at = folded.rfind(option_text) if option_text else -1
        if at >= 0:
            key = (at + len(option_text), len(option_text), letter)
            best = key if best is None or key[:2] > best[:2] else best
    return best[2] if best else None


def gold_letter(item: EvalItem) -> str | None:
    """The reference as an option letter (a reference given as the option's text is mapped to its letter)."""
    refs = references_of(item)
    if not refs or not item.choices:
        return None
    ref = normalize_answer(refs[0], casefold=False)
    if ref in item.choices:
        return ref
    return next((k for k, v in item.choices.items() if normalize_answer(v) == ref.casefold()), None)


def picked_or_unparsable(
    picked: str | None, item: EvalItem, random_seed: int | None
) -> tuple[str | None, dict[str, object]]:
    """The letter read from the answer and the item's detail; none read is marked `unparsable` and, with
    `random_seed`, replaced by a pick seeded by (random_seed, question_id) (detail `random_pick`)."""
    detail: dict[str, object] = {"extracted": picked}
    if picked is None:
        detail["unparsable"] = True
        if random_seed is not None:
            picked = random.Random(f"{random_seed}:{item.question_id}").choice(sorted(item.choices or {}))
            detail["random_pick"] = picked
    return picked, detail


def choice_score(item: EvalItem, text: str, random_seed: int | None = None) -> ItemScore:
    """1 when the extracted letter is the gold one; unparsable answers are 0 and marked (or a seeded pick)."""
    gold = gold_letter(item)
    if gold is None or not item.choices:
        return ItemScore(item.question_id, None, "no_reference")
    picked, detail = picked_or_unparsable(extract_choice(text, item.choices), item, random_seed)
    return ItemScore(item.question_id, 1.0 if picked == gold else 0.0, detail=detail)


@register_scorer
class ChoiceAccuracy(ParsedAnswerAccuracy):
    """Accuracy of multiple-choice answers; an answer naming no option is wrong and counted."""

    name: ClassVar[str] = "choice"

    def __init__(self, random_seed: int | None = None) -> None:
        self.random_seed = random_seed

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """1.0 or 0.0 (see `choice_score`)."""
        return choice_score(item, text, self.random_seed)

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """Accuracy in % with its CI, `details["unparsable"]` and `details["random_picks"]`."""
        result = super().aggregate(items, scores, seed=seed)
        result.details["random_picks"] = sum(1 for s in scores if "random_pick" in s.detail)
        return result

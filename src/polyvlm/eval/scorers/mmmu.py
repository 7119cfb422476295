"""MMMU accuracy with MMMU's own answer parsing (MMMU-Benchmark/MMMU `eval/eval_utils.py`, as lmms-eval uses it).

Multiple-choice items (`EvalItem.choices`): the answer is trimmed of , . ! ? ; : ' at both ends and padded
with spaces; the candidates are the letters written `(A)`; failing those, letters standing alone (` A `);
failing those and only in an answer of more than five words, the options whose text appears in it. Of
several candidates the one mentioned last wins. Where MMMU then picks a random letter, here the answer is
**unparsable: wrong and counted** (`details["unparsable"]`), or a pick seeded by (seed, question_id) when
the scorer is built with `random_seed`.

Open items (no choices; the reference one answer or a list): the key parts of the answer (the text after
"could be", "so", "is", "thus", "therefore", "final", "answer", "result", and "=" in the last sentence,
the shortest per sentence) and every number in them; numbers compare as floats rounded to 2 places,
text by containment of the lower-cased reference (a one-character reference padded with a space so "a"
does not match every word). Per item 1 or 0; headline in % with a bootstrap 95 % CI.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.choice import picked_or_unparsable
from polyvlm.eval.scorers.itemwise import references_of
from polyvlm.eval.scorers.unparsable import ParsedAnswerAccuracy

KEY_INDICATORS = ("could be ", "so ", "is ", "thus ", "therefore ", "final ", "answer ", "result ")
NUMBER_PATTERNS = (
    re.compile(r"-?\b\d{1,3}(?:,\d{3})+\b"),  # with thousands commas
    re.compile(r"-?\d+(?:\.\d+)?[eE][+-]?\d+"),  # scientific
    re.compile(r"-?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])"),  # plain
)


def parse_choice(response: str, choices: dict[str, str]) -> str | None:
    """The option letter MMMU's parser reads from the answer, or None where it would pick at random."""
    for char in (",", ".", "!", "?", ";", ":", "'"):
        response = response.strip(char)
    response = f" {response} "
    bracketed = [c for c in choices if f"({c})" in response]
    candidates = bracketed or [c for c in choices if f" {c} " in response]
    by_text = False
    if not candidates and len(response.split()) > 5:
        candidates = [c for c, text in choices.items() if str(text).lower() in response.lower()]
        by_text = True
    if not candidates:
        return None
    if by_text:
        where = [response.lower().rfind(str(choices[c]).lower()) for c in candidates]
    else:
        form = "({})" if bracketed else " {} "
        where = [response.rfind(form.format(c)) for c in candidates]
    return candidates[where.index(max(where))]  # the last mention; the first of equals, as np.argmax


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def normalize_open(text: str) -> list[str | float]:
    """MMMU's `normalize_str`: a number as a float rounded to 2 places, else lower-case (a single
    character padded on either side)."""
    text = text.strip()
    if _is_number(text):
        return [round(float(text.replace(",", "")), 2)]
    text = text.lower()
    return [" " + text, text + " "] if len(text) == 1 else [text]


def _key_parts(response: str) -> list[str]:
    response = response.strip().strip(".").lower()
    sentences = re.split(r"\.\s(?=[A-Z])|\n", response)
    keys = []
    for i, sentence in enumerate(sentences):
        indicators = KEY_INDICATORS + (("=",) if i == len(sentences) - 1 else ())
        shortest = ""
        for ind in indicators:
            if ind in sentence:
                tail = sentence.split(ind)[-1].strip()
                # as MMMU's loop: an empty first tail counts as none yet, a later shorter one (even "") wins
                if not shortest or len(tail) < len(shortest):
                    shortest = tail
        if shortest and shortest.strip() not in (":", ",", ".", "!", "?", ";", "'"):
            keys.append(shortest)
    return keys or [response]


def parse_open(response: str) -> list[str | float]:
    """MMMU's `parse_open_response`: the normalised key parts of the answer and the numbers in them."""
    keys = _key_parts(response)
    parts = keys + [n for k in keys for p in NUMBER_PATTERNS for n in p.findall(k)]
    return list(dict.fromkeys(v for p in parts for v in normalize_open(p)))


def open_correct(golds: Sequence[str], preds: Sequence[str | float]) -> bool:
    """MMMU's `eval_open`: a parsed number equal to a gold number, or a gold text inside a parsed text."""
    norm = [v for g in golds for v in normalize_open(g)]
    for pred in preds:
        if isinstance(pred, str):
            if any(isinstance(g, str) and g in pred for g in norm):
                return True
        elif pred in norm:
            return True
    return False


@register_scorer
class MMMUAccuracy(ParsedAnswerAccuracy):
    """MMMU's accuracy: its multiple-choice and open-answer parsing; an unparsable choice is wrong, counted."""

    name: ClassVar[str] = "mmmu"

    def __init__(self, random_seed: int | None = None) -> None:
        self.random_seed = random_seed

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """1.0 or 0.0 by the item's kind; no reference: excluded (`no_reference`)."""
        refs = references_of(item)
        if not refs:
            return ItemScore(item.question_id, None, "no_reference")
        if not item.choices:
            return ItemScore(item.question_id, 1.0 if open_correct(refs, parse_open(text)) else 0.0)
        picked, detail = picked_or_unparsable(parse_choice(text, item.choices), item, self.random_seed)
        return ItemScore(item.question_id, 1.0 if picked in refs else 0.0, detail=detail)

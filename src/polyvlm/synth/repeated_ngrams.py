"""repeated_ngrams: drop records whose generated turns loop (a high share of repeated n-grams).

The share is 1 - distinct n-grams / all n-grams of a turn: ~0.00-0.05 for ordinary prose, 0.3 and up
for a model stuck repeating a phrase. Words are the unit for spaced languages, characters for Japanese,
Chinese and other unspaced scripts (language from the record, else from the share of CJK characters).
"""

from __future__ import annotations

from pydantic import Field

from polyvlm.core.records import Record
from polyvlm.core.step import FilterStep, Params, register
from polyvlm.synth.char_ngrams import normalize
from polyvlm.synth.language_table import is_unspaced
from polyvlm.synth.text_slots import generated_texts


def repeated_share(units: list[str], n: int) -> float:
    """1 - distinct / total of the n-grams of a unit sequence (0.0 when there are none)."""
    grams = [tuple(units[i : i + n]) for i in range(len(units) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


class RepeatedNgramsParams(Params):
    """Parameters of repeated_ngrams."""

    word_n: int = Field(3, ge=1)
    """n of word n-grams (spaced languages)"""
    char_n: int = Field(5, ge=1)
    """n of character n-grams (unspaced languages: ja, zh, th, ...)"""
    max_share: float = Field(0.2, gt=0.0, le=1.0)
    """a turn with a larger share of repeated n-grams drops the record (repetition)"""
    min_ngrams: int = Field(10, ge=1)
    """turns with fewer n-grams are not judged (a short answer may repeat a word by chance)"""
    language: str = ""
    """language of the turns; empty: the record's language, else guessed from the script"""
    roles: list[str] = ["assistant"]
    """roles of a Sample's messages that are checked (a Pair's text is always checked)"""


@register
class RepeatedNgrams(FilterStep):
    """Drop records with an assistant turn (or caption) whose share of repeated n-grams exceeds max_share."""

    name = "repeated_ngrams"
    Params = RepeatedNgramsParams

    def reject(self, record: Record) -> str | None:
        p = self.params
        for text in generated_texts(record, p.roles):
            norm = normalize(text)
            if is_unspaced(p.language or record.language, norm):
                units, n = list(norm.replace(" ", "")), p.char_n
            else:
                units, n = norm.split(), p.word_n
            if len(units) - n + 1 >= p.min_ngrams and repeated_share(units, n) > p.max_share:
                return "repetition"
        return None

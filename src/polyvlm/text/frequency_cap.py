"""text_frequency_cap: drop texts that occur more than N times in the corpus (an Aggregate)."""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter

from polyvlm.core.records import Record, record_text
from polyvlm.core.step import Aggregate, Drop, Params, register


class TextFrequencyCapParams(Params):
    """Parameters of text_frequency_cap."""

    max_count: int = 10
    """texts seen more often than this, corpus-wide, are boilerplate ("商品画像", "写真") and all go"""
    normalize: bool = True
    """compare texts after NFKC and whitespace collapsing"""


def text_key(text: str, normalize: bool) -> int:
    """An 8-byte hash of a text (the state holds one int per distinct text)."""
    if normalize:
        text = " ".join(unicodedata.normalize("NFKC", text).split())
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


@register
class TextFrequencyCap(Aggregate):
    """Drop every record whose text occurs more than max_count times in the corpus (reason: frequent_text)."""

    name = "text_frequency_cap"
    Params = TextFrequencyCapParams

    def init_state(self) -> Counter[int]:
        return Counter()

    def observe(self, state: Counter[int], record: Record, position: tuple[int, ...]) -> None:
        state[text_key(record_text(record), self.params.normalize)] += 1

    def merge(self, a: Counter[int], b: Counter[int]) -> Counter[int]:
        if len(a) < len(b):
            a, b = b, a
        a.update(b)
        return a

    def apply(self, state: Counter[int], record: Record, position: tuple[int, ...]) -> Record | Drop:
        n = state[text_key(record_text(record), self.params.normalize)]
        return Drop("frequent_text", f"{n} times") if n > self.params.max_count else record

"""Character n-grams of normalised text, and the two similarities built on them (set Jaccard, chrF-like F1).

Character n-grams work the same for spaced and unspaced scripts (Japanese has no word boundaries to split
on), which is why both the back-translation check and the near-duplicate question rule use them.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from polyvlm.synth.placeholders import MEDIA


def normalize(text: str) -> str:
    """NFKC, case-folded, media markers and punctuation removed, whitespace collapsed to single spaces."""
    text = unicodedata.normalize("NFKC", MEDIA.sub(" ", text)).casefold()
    kept = "".join(c if c.isalnum() else " " for c in text)
    return " ".join(kept.split())


def char_ngrams(text: str, n: int = 3) -> Counter[str]:
    """The n-grams of a normalised text with their counts (a text shorter than n is one n-gram)."""
    text = normalize(text)
    if len(text) <= n:
        return Counter([text]) if text else Counter()
    return Counter(text[i : i + n] for i in range(len(text) - n + 1))


def jaccard(a: set[str] | Counter[str], b: set[str] | Counter[str]) -> float:
    """|a ∩ b| / |a ∪ b| of two n-gram sets (1.0 for two empty texts)."""
    a, b = set(a), set(b)
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def ngram_f1(a: Counter[str], b: Counter[str]) -> float:
    """F1 of n-gram counts, chrF-style (order-free, so paraphrase with the same words still scores high)."""
    if not a and not b:
        return 1.0
    overlap = sum((a & b).values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / sum(b.values()), overlap / sum(a.values())
    return 2 * precision * recall / (precision + recall)

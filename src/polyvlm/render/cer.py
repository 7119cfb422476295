"""Character error rate of an OCR read-back against the ground truth (rapidfuzz's Levenshtein distance).

Both sides are compared after NFKC and without white space and punctuation: OCR models drop or swap
those (a vertical 。 reads as nothing, a full-width comma as a half-width one) without the line being
illegible, and the gate asks whether the text can be read, not how it is punctuated.
"""

from __future__ import annotations

import unicodedata

from rapidfuzz.distance import Levenshtein


def comparable(text: str) -> str:
    """NFKC text without white space and punctuation."""
    return "".join(
        c
        for c in unicodedata.normalize("NFKC", text)
        if not c.isspace() and not unicodedata.category(c).startswith("P")
    )


def cer(reads: list[str], truths: list[str]) -> float:
    """Edit distance summed over lines, divided by the ground truth's length (1.0 when it is empty)."""
    errors = total = 0
    for read, truth in zip(reads, truths, strict=True):
        a, b = comparable(read), comparable(truth)
        errors += Levenshtein.distance(a, b)
        total += len(b)
    return errors / total if total else 1.0

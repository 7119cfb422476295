"""How short answers are compared: Unicode-normalised (NFKC), trimmed, whitespace collapsed, case-folded.

NFKC makes full-width ａｂｃ／１２３ and half-width kana compare equal to their usual forms, which
Japanese answers mix freely; case folding is Unicode-aware (ß, accented capitals), not ASCII-only.
"""

from __future__ import annotations

import unicodedata


def normalize_answer(text: str, casefold: bool = True) -> str:
    """NFKC, whitespace runs to one space, trimmed, and (by default) case-folded."""
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    return text.casefold() if casefold else text

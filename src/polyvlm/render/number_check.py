"""Numbers in a ground-truth line against its OCR read-back: every number must be read exactly.

A page CER forgives a wrong digit (2018 written where the image says 3129 costs 4 characters of a
page), but a QA answer built on that number is wrong. Numbers are runs of ASCII digits after NFKC
(full-width digits count), with thousands separators dropped and a decimal point kept. Only numbers of
`MIN_DIGITS` or more are checked: PP-OCRv5 drops a lone narrow digit between wide glyphs on clean
renders (第1章 reads as 第章, whatever the crop's stretch), which the page CER already counts.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
MIN_DIGITS = 2


def numbers(text: str) -> list[str]:
    """The numbers in the text, in order, without thousands separators ("1,234.5" -> "1234.5")."""
    # a reader may split a number with a space (20 18): blanks never separate two numbers on a page line
    flat = "".join(unicodedata.normalize("NFKC", text).split())
    return [m.replace(",", "") for m in _NUMBER.findall(flat) if m.isascii()]


def number_mismatch(read: str, truth: str) -> str | None:
    """`TRUTH read as READ` for the first number of the truth that the read does not hold, else None."""
    wanted = [n for n in numbers(truth) if sum(c.isdigit() for c in n) >= MIN_DIGITS]
    seen = numbers(read)
    spare = Counter(seen) - Counter(wanted)  # the read's numbers no truth number took
    missing = Counter(wanted) - Counter(seen)
    if not missing:
        return None
    first = next(n for n in wanted if missing[n])
    # the read's unmatched number nearest in order is what the image shows instead
    others = [n for n in seen if spare[n]]
    return f"{first} read as {others[0] if others else 'nothing'}"

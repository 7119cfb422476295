"""Checks that a generated answer does not contradict the text it was grounded in (a page's text layer, an alt text).

Two checks that a model's slip fails and a faithful answer passes: every quoted span (「…」, 『…』, “…”,
"…") must occur in the source, and every number must occur in it. Both compare NFKC forms without
white space, so full-width digits and spacing do not matter. Numbers written in kanji (七, 二十三, 一万, 1.5万)
count as numbers on both sides, so 七次元 fails against a page that says 2 次元 and 二次元 passes; a lone 一
in the answer is not checked (一緒, 一方 are words).
"""

from __future__ import annotations

import re
import unicodedata

from polyvlm.text.kanji_numerals import kanji_numbers

_QUOTE = re.compile(r"「([^」]{2,})」|『([^』]{2,})』|“([^”]{2,})”|\"([^\"]{2,})\"")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _plain(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def ungrounded(answer: str, source: str, numbers: bool = True) -> str:
    """Why the answer is not supported by the source ('' when it is): a quote or a number the source lacks."""
    src = _plain(source)
    for m in _QUOTE.finditer(answer):
        quote = next(g for g in m.groups() if g)
        if _plain(quote) not in src:
            return f"quote not in source: {quote[:60]}"
    if numbers:
        src_numbers = {n.replace(",", "") for n in _NUMBER.findall(src)} | set(kanji_numbers(src))
        plain = _plain(answer)
        for n in _NUMBER.findall(plain) + kanji_numbers(plain, lone_one=False):
            if n.replace(",", "") not in src_numbers and n.replace(",", "") not in src:
                return f"number not in source: {n}"
    return ""

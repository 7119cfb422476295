"""Sentences joined back into running text: no space where Japanese or Chinese meets, one between words of
space-separated scripts."""

from __future__ import annotations

import re

# kana, CJK punctuation, CJK ideographs (and their extensions and compatibility forms), full-width forms:
# text in these scripts runs on without spaces between its sentences
_UNSPACED = re.compile(
    "[\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
)


def sentence_separator(before: str, after: str) -> str:
    """What goes between two sentences: nothing when either side is CJK text or a space, else one space."""
    if not before or not after or before[-1].isspace() or after[0].isspace():
        return ""
    if _UNSPACED.match(before[-1]) or _UNSPACED.match(after[0]):
        return ""
    return " "


def join_sentences(sentences: list[str]) -> str:
    """Sentences as one running text, as the mmc4 training reader joins them."""
    out = ""
    for s in sentences:
        out += sentence_separator(out, s) + s
    return out

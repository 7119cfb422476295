"""Ruby (furigana) for Japanese text: readings of words written with kanji, from MeCab (fugashi + unidic-lite)."""

from __future__ import annotations

import html
import random
import re
from functools import lru_cache
from typing import Any

_KANJI = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf々]")


@lru_cache(maxsize=1)
def _tagger() -> Any:
    import fugashi  # the eval extra; without it pages are rendered without ruby

    return fugashi.Tagger()


def to_hiragana(katakana: str) -> str:
    """Katakana as hiragana (the usual script of furigana); other characters unchanged."""
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in katakana)


def split_okurigana(surface: str, reading: str) -> tuple[str, str]:
    """(kanji part, kana ending) of a word: 晴れ/はれ gives (晴, れ), so the ruby stands over the kanji only."""
    n = 0
    while n < min(len(surface), len(reading)) - 1 and surface[-1 - n] == reading[-1 - n]:
        n += 1
    return (surface[: len(surface) - n], surface[len(surface) - n :]) if n else (surface, "")


def ruby_html(text: str, rng: random.Random, share: float) -> tuple[str, int]:
    """The text as escaped HTML with about `share` of its kanji words in <ruby>, and how many got ruby."""
    try:
        tagger = _tagger()
    except ImportError:
        return html.escape(text), 0
    parts, count, pos = [], 0, 0
    for word in tagger(text):
        surface = word.surface
        start = text.find(surface, pos)
        if start < 0:  # MeCab normalised something: keep the rest as plain text
            break
        parts.append(html.escape(text[pos:start]))  # the white space MeCab skipped
        pos = start + len(surface)
        kana = getattr(word.feature, "kana", None) or ""
        reading = to_hiragana(kana)
        if _KANJI.search(surface) and reading and reading != surface and rng.random() < share:
            base, tail = split_okurigana(surface, reading)
            parts.append(
                f"<ruby>{html.escape(base)}<rt>{html.escape(reading[: len(reading) - len(tail)])}</rt></ruby>"
            )
            parts.append(html.escape(tail))
            count += 1
        else:
            parts.append(html.escape(surface))
    parts.append(html.escape(text[pos:]))
    return "".join(parts), count

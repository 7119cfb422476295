"""How many of a text's Latin words have shapes no language writes: a text layer read through a wrong map.

A font whose ToUnicode map is shifted (a subset font's glyph numbers taken as code points) gives valid,
printable characters, so the private-use/control check misses it: "Peněžní prostředky" comes out as
"3HQČåQt SURVWĜHGN". Each letter stays a letter, but the words lose the shapes of writing: a lower-case
letter becomes a capital or a digit, so words turn into digit-letter mixes ("3HQČåQt"), capitals after
small letters ("ČåQt") or runs of capitals ("SURVWĜHGN"). Real prose is mostly lower-case words and
capitalised ones; pages set wholly in capitals are the false positive this accepts.
"""

from __future__ import annotations

import re

MIN_WORDS = 12
"""fewer Latin words than this say nothing (a title, a page number, a Japanese page's few Latin words)"""

# runs of Latin letters (with Latin-1/Extended-A/B: the shifted map lands there too) and digits; other
# scripts end a word, so "AIの進化" gives "AI", never a mixed run
_WORD = re.compile(r"[0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]{3,}")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def misshapen(word: str) -> bool:
    """A digit beside letters, a capital after a small letter, or four or more letters all capitals."""
    letters = [c for c in word if c.isalpha()]
    if not letters:
        return False
    if len(letters) < len(word):  # digits among letters: "3HQ", "SURVW2"
        return True
    if any(c.islower() for c in letters):
        # "ČåQt": a capital after a small letter (camelCase names are rare in prose)
        first_lower = next(i for i, c in enumerate(word) if c.islower())
        return any(c.isupper() for c in word[first_lower:])
    return len(letters) >= 4


def misshapen_word_share(text: str) -> float:
    """Share of the Latin words (3+ characters) that are misshapen; 0 unless Latin is most of the letters."""
    words = [w for w in _WORD.findall(text) if _LATIN.search(w)]
    letters = sum(c.isalpha() for c in text)
    latin = sum(len(_LATIN.findall(w)) for w in words)
    # on a Japanese page the Latin words are acronyms (LLM, NICT): only a Latin-script page is judged
    if len(words) < MIN_WORDS or latin < 0.5 * letters:
        return 0.0
    return sum(misshapen(w) for w in words) / len(words)

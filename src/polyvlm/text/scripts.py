"""Which writing systems a language uses, and how much of a text is written in them (Unicode character names).

For OCR lines from photos: a line the recogniser read is kept as a target of a language only when most of
its letters are that language's script (a Japanese sign's kana and kanji, not a shop's Latin logo).
"""

from __future__ import annotations

import unicodedata

LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {
    # ー is KATAKANA-HIRAGANA PROLONGED SOUND MARK, 々 IDEOGRAPHIC ITERATION MARK
    "ja": frozenset({"CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA", "IDEOGRAPHIC"}),
    "zh": frozenset({"CJK", "IDEOGRAPHIC"}),
    "ko": frozenset({"HANGUL"}),
    "th": frozenset({"THAI"}),
    "ru": frozenset({"CYRILLIC"}),
    "uk": frozenset({"CYRILLIC"}),
    "ar": frozenset({"ARABIC"}),
    "hi": frozenset({"DEVANAGARI"}),
}
LATIN = frozenset({"LATIN"})  # every other language


def script_share(text: str, language: str) -> float:
    """The share of the text's letters written in the language's scripts (0.0 when it has no letters)."""
    scripts = LANGUAGE_SCRIPTS.get(language, LATIN)
    letters = [c for c in unicodedata.normalize("NFKC", text) if c.isalpha()]
    if not letters:
        return 0.0
    # the first word of a character's name is its script: "CJK UNIFIED IDEOGRAPH-732B", "HIRAGANA LETTER A"
    hits = sum(1 for c in letters if unicodedata.name(c, "").split(" ", 1)[0] in scripts)
    return hits / len(letters)

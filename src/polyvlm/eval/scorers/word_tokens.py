"""Words for ROUGE: MeCab words for Japanese, Unicode words for space-separated languages.

Every text first loses its emoji, is NFKC-normalised (full-width letters and digits, half-width kana)
and has its whitespace collapsed — the normalisation of the Japanese ROUGE-L of llm-jp-eval-mm and
SakanaAI's evolutionary-model-merge, whose published figures these tokens reproduce.

- Japanese (`ja`): MeCab (fugashi + unidic-lite) in wakati mode; punctuation stays a token (。 counts).
  One tagger per process, made on first use.
- Chinese, Thai (`zh`, `th`), no spaces between words: one token per letter or digit.
- Other languages: runs of Unicode letters and digits, case-folded — unlike rouge-score's default
  tokenizer, which keeps only [a-z0-9] and so splits "été" into "t" and drops "ß".
A text of unknown language is Japanese when it holds kana, else space-separated.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from polyvlm.eval.scorers.scorer_packages import needed

_KANA = re.compile(r"[\u3040-\u30ff]")
_WORD = re.compile(r"\w+")
_LETTER = re.compile(r"\w")
_NO_SPACE_LANGUAGES = frozenset({"zh", "th"})


@lru_cache(maxsize=1)
def mecab_tagger() -> Any:
    """The process's MeCab tagger (fugashi, unidic-lite dictionary, wakati output)."""
    needed("unidic_lite")  # the dictionary fugashi falls back to
    return needed("fugashi").Tagger("-Owakati")


@lru_cache(maxsize=1)
def _emoji_start() -> frozenset[str]:
    """Every non-ASCII character an emoji can begin with, and the keycap marks (VS16, U+20E3)."""
    starts = {e[0] for e in needed("emoji").EMOJI_DATA if ord(e[0]) > 127}
    return frozenset(starts | {"\ufe0f", "\u20e3"})


def normalize_for_rouge(text: str) -> str:
    """Emoji removed, NFKC, whitespace runs collapsed to one space, trimmed."""
    # emoji's own scan is pure Python per character: run it only on text that may hold an emoji
    if not _emoji_start().isdisjoint(text):
        text = needed("emoji").replace_emoji(text, replace="")
    return " ".join(unicodedata.normalize("NFKC", text).split())


def language_of(text: str, language: str = "") -> str:
    """The language to tokenize as: the one given, else `ja` for text with kana, else `xx` (spaced)."""
    if language:
        return language.lower().split("-")[0]
    return "ja" if _KANA.search(text) else "xx"


def words(text: str, language: str = "") -> list[str]:
    """The ROUGE tokens of `text` in `language` (see the module docstring)."""
    text = normalize_for_rouge(text)
    lang = language_of(text, language)
    if not text:
        return []
    if lang == "ja":
        return mecab_tagger().parse(text).split()
    if lang in _NO_SPACE_LANGUAGES:
        return _LETTER.findall(text.casefold())
    return _WORD.findall(text.casefold())

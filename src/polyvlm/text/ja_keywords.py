"""HojiChar's Japanese keyword lists, matched so that a keyword inside a longer word is no hit.

HojiChar matches its Japanese lists as substrings (its `ignore_confused` guards only katakana keywords),
so the Latin keyword `SM` hits SMS and SMB, and `AV` hits AVAILABLE. With the guard on, a keyword all in
katakana counts only when no katakana touches it (HojiChar's rule: アス in アスパラガス is no hit), and
one all in Latin letters and digits only when no Latin letter or digit touches it (ours: SM in SMS is
no hit, SM in 「SMクラブ」 is). Other keywords (kanji, hiragana, mixed) match anywhere, as in HojiChar.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_KATAKANA = "ァ-ヴー"
_LATIN = "A-Za-z0-9"


def hojichar_list(file_name: str) -> str:
    """The path of one of the keyword lists HojiChar ships (e.g. adult_keywords_ja.txt)."""
    import hojichar

    return str(Path(hojichar.__file__).parent / "dict" / file_name)


def _alternatives(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in words)


def _guarded(words: list[str], chars: str) -> str:
    return rf"(?<![{chars}])(?:{_alternatives(words)})(?![{chars}])"


@lru_cache(maxsize=16)
def keyword_pattern(path: str, guard: bool = True) -> re.Pattern[str]:
    """One regex for the keyword list at `path` (one keyword per line), with or without the word guards."""
    with open(path, encoding="utf-8") as f:
        words = [w.strip() for w in f.read().split("\n") if w.strip()]
    if not guard:
        return re.compile(_alternatives(words))
    katakana = [w for w in words if re.fullmatch(f"[{_KATAKANA}]+", w)]
    latin = [w for w in words if re.fullmatch(f"[{_LATIN} ]+", w)]
    guarded = set(katakana) | set(latin)
    rest = [w for w in words if w not in guarded]
    parts = [_guarded(group, chars) for group, chars in ((katakana, _KATAKANA), (latin, _LATIN)) if group]
    if rest:
        parts.append(_alternatives(rest))
    return re.compile("|".join(parts))

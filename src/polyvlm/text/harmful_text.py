"""harmful_text: a document rule — drop documents whose text holds a harmful keyword (HojiChar's lists for Japanese).

Categories and HojiChar's lists: adult (adult_keywords_ja.txt; English: HojiChar's DiscardAdultContentEn),
discrimination (discrimination_keywords_ja.txt), violence (violence_keywords_ja.txt). The Japanese lists
are matched by text/ja_keywords.py (a Latin keyword inside a longer Latin word is no hit). A language
without a list of a category is not judged on it (counted in the step's metrics as `unjudged:<language>`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Literal

from polyvlm.core.records import Record, record_text
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.text.ja_keywords import hojichar_list, keyword_pattern

JA_LISTS = {
    "adult": "adult_keywords_ja.txt",
    "discrimination": "discrimination_keywords_ja.txt",
    "violence": "violence_keywords_ja.txt",
}
Category = Literal["adult", "discrimination", "violence"]


class HarmfulTextParams(Params):
    """Parameters of harmful_text."""

    categories: list[Category] = ["adult", "discrimination", "violence"]
    """keyword lists applied (each a HojiChar filter)"""
    language: str = ""
    """language of the lists; empty: each record's own language"""
    ignore_confused: bool = True
    """guards against false hits: a katakana keyword counts only when no katakana touches it (HojiChar's: アス in アスパラガス is no hit), a Latin one only when no Latin letter or digit does (SM in SMS is no hit)"""


@register
class HarmfulText(MapStep):
    """Drop documents containing a keyword of HojiChar's harmful-content lists (reason harmful_text:<category>)."""

    name = "harmful_text"
    Params = HarmfulTextParams

    def setup(self) -> None:
        from hojichar.filters.document_filters import DiscardAdultContentEn

        english = DiscardAdultContentEn()
        self._matchers: dict[tuple[str, str], Callable[[str], str | None]] = {
            ("en", "adult"): lambda text: _group(english.keyword_pat.search(text), 1)
        }
        for category, file_name in JA_LISTS.items():
            pattern = keyword_pattern(hojichar_list(file_name), self.params.ignore_confused)
            self._matchers[("ja", category)] = lambda text, p=pattern: _group(p.search(text))
        self._unjudged: Counter[str] = Counter()

    def metrics(self) -> dict[str, float]:
        return {f"unjudged:{lang}": float(n) for lang, n in getattr(self, "_unjudged", {}).items()}

    def apply(self, record: Record) -> Record | Drop:
        language = self.params.language or record.language
        text = record_text(record)
        judged = False
        for category in self.params.categories:
            match = self._matchers.get((language, category))
            if match is None:
                continue
            judged = True
            keyword = match(text)
            if keyword is not None:
                return Drop(f"harmful_text:{category}", f"keyword {keyword!r}")
        if not judged:
            self._unjudged[language or "none"] += 1
        return record


def _group(m: re.Match[str] | None, group: int = 0) -> str | None:
    return m.group(group) if m else None

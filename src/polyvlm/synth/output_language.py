"""output_language: drop records whose generated turns are not in the expected language (language:<code>)."""

from __future__ import annotations

from pydantic import Field

from polyvlm.core.records import Record
from polyvlm.core.step import FilterStep, Params, register
from polyvlm.synth.placeholders import protect
from polyvlm.synth.text_slots import generated_texts
from polyvlm.text.langid import LanguageIdentifier


class OutputLanguageParams(Params):
    """Parameters of output_language."""

    language: str = ""
    """expected ISO 639-1 code; empty: the record's own `language` (none there either: no_expected_language)"""
    roles: list[str] = ["assistant"]
    """roles of a Sample's messages that are judged (a Pair's text is always judged)"""
    min_chars: int = Field(20, ge=1)
    """turns shorter than this are judged only together (language id guesses on a few words)"""


@register
class OutputLanguage(FilterStep):
    """Drop records whose assistant turns (or caption) language id says are not the expected language."""

    name = "output_language"
    Params = OutputLanguageParams

    def setup(self) -> None:
        self._lid = LanguageIdentifier()

    def reject(self, record: Record) -> str | None:
        expected = self.params.language or record.language
        if not expected:
            return "no_expected_language"
        # code, URLs and numbers say nothing about the language of the prose around them
        texts = [protect(t).prose for t in generated_texts(record, self.params.roles)]
        judged = [t for t in texts if len(t) >= self.params.min_chars]
        if not judged:
            joined = " ".join(texts)
            judged = [joined] if len(joined) >= self.params.min_chars else []
        for text in judged:
            lang, _ = self._lid.detect(text)
            if lang != expected:
                return f"language:{lang or 'unknown'}"
        return None

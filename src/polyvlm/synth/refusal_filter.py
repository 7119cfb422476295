"""refusal_filter: drop records whose generated turns refuse, apologise, or speak "as an AI" (reason: refusal)."""

from __future__ import annotations

import re
import unicodedata

from pydantic import Field, field_validator

from polyvlm.core.records import Record
from polyvlm.core.step import FilterStep, Params, register
from polyvlm.synth.refusal_phrases import ANYWHERE, OPENING
from polyvlm.synth.text_slots import generated_texts

_LATIN = "[a-zß-ÿ]"  # after case folding; a phrase edge that is a Latin letter must be a word edge
_QUOTES = str.maketrans({"’": "'", "‘": "'", "´": "'", "`": "'"})
# quoted speech is content ("the sign says 「申し訳ありません」"), not the model talking
_QUOTED = re.compile(r'「[^」]*」|『[^』]*』|"[^"\n]*"|“[^”\n]*”|„[^“”\n]*[“”]|«[^»\n]*»')


def fold(text: str) -> str:
    """NFKC, case-folded, typographic apostrophes made straight: the form phrases are matched in."""
    return unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()


def phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    """One regex for a phrase list; `als ki` must not match inside `als kind`, `aiとして` needs no spaces."""
    parts = []
    for phrase in sorted({fold(p) for p in phrases if p.strip()}, key=len, reverse=True):
        before = f"(?<!{_LATIN})" if re.match(_LATIN, phrase) else ""
        after = f"(?!{_LATIN})" if re.match(_LATIN, phrase[-1]) else ""
        parts.append(before + re.escape(phrase) + after)
    return re.compile("|".join(parts)) if parts else None


class RefusalFilterParams(Params):
    """Parameters of refusal_filter."""

    languages: list[str] = []
    """phrase lists used (en, ja, fr, de, it, es); empty: all of them"""
    extra_phrases: list[str] = []
    """more phrases that give a turn away wherever they occur"""
    opening_chars: int = Field(60, ge=0)
    """apology phrases ("I'm sorry", 申し訳) count only within this many characters from a turn's start"""
    roles: list[str] = ["assistant"]
    """roles of a Sample's messages that are checked (a Pair's text is always checked)"""

    @field_validator("languages")
    @classmethod
    def _known(cls, languages: list[str]) -> list[str]:
        unknown = set(languages) - set(ANYWHERE)
        if unknown:
            raise ValueError(f"no refusal phrase list for {sorted(unknown)}; known: {sorted(ANYWHERE)}")
        return languages


@register
class RefusalFilter(FilterStep):
    """Drop records whose assistant turns (or caption) hold a refusal, an apology or an "as an AI" phrase."""

    name = "refusal_filter"
    Params = RefusalFilterParams

    def setup(self) -> None:
        p = self.params
        langs = p.languages or list(ANYWHERE)
        self._anywhere = phrase_pattern([ph for lang in langs for ph in ANYWHERE[lang]] + p.extra_phrases)
        self._opening = phrase_pattern([ph for lang in langs for ph in OPENING.get(lang, [])])

    def reject(self, record: Record) -> str | None:
        for text in generated_texts(record, self.params.roles):
            folded = _QUOTED.sub(" ", fold(text)).strip()
            if self._anywhere and self._anywhere.search(folded):
                return "refusal"
            opening = self._opening.search(folded) if self._opening else None
            if opening and opening.start() < self.params.opening_chars:
                return "refusal"
        return None

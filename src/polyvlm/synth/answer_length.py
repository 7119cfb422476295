"""answer_length: drop records with a generated turn that is too short or too long (in characters)."""

from __future__ import annotations

from pydantic import Field

from polyvlm.core.records import Record
from polyvlm.core.step import FilterStep, Params, register
from polyvlm.synth.placeholders import strip_media
from polyvlm.synth.text_slots import generated_texts


class AnswerLengthParams(Params):
    """Parameters of answer_length (characters of each turn, media markers and edge whitespace removed)."""

    min_chars: int = Field(1, ge=0)
    """a turn shorter than this drops the record (answer_too_short); 1 drops empty answers"""
    max_chars: int | None = Field(8000, ge=1)
    """a turn longer than this drops the record (answer_too_long); none: no limit"""
    roles: list[str] = ["assistant"]
    """roles of a Sample's messages that are measured (a Pair's text is always measured)"""


@register
class AnswerLength(FilterStep):
    """Drop records with an assistant turn (or caption) outside [min_chars, max_chars] characters."""

    name = "answer_length"
    Params = AnswerLengthParams

    def reject(self, record: Record) -> str | None:
        p = self.params
        for text in generated_texts(record, p.roles):
            n = len(strip_media(text).strip())
            if n < p.min_chars:
                return "answer_too_short"
            if p.max_chars is not None and n > p.max_chars:
                return "answer_too_long"
        return None

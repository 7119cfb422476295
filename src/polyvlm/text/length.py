"""text_length: drop records whose text is too short or too long."""

from __future__ import annotations

from polyvlm.core.records import Record, record_text
from polyvlm.core.step import FilterStep, Params, register


class TextLengthParams(Params):
    """Parameters of text_length (characters, after joining segments with spaces)."""

    min_chars: int = 0
    """drop records with fewer characters (too_short)"""
    max_chars: int | None = None
    """drop records with more characters (too_long); none: no limit"""


@register
class TextLength(FilterStep):
    """Drop records with fewer than min_chars or more than max_chars characters of text."""

    name = "text_length"
    Params = TextLengthParams

    def reject(self, record: Record) -> str | None:
        n = len(record_text(record))
        if n < self.params.min_chars:
            return "too_short"
        if self.params.max_chars is not None and n > self.params.max_chars:
            return "too_long"
        return None

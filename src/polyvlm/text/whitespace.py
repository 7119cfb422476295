"""normalize_whitespace: strip the ends; runs of two or more whitespace characters become one space."""

from __future__ import annotations

import re

from polyvlm.core.records import Document, Pair, Record, Sample
from polyvlm.core.step import MapStep, Params, register

_RUNS = re.compile(r"\s{2,}")  # \s covers the full-width space U+3000 and other Unicode spaces


def normalize_whitespace(text: str) -> str:
    """Strip both ends and turn each run of two or more whitespace characters into one half-width space."""
    return _RUNS.sub(" ", text.strip())


@register
class NormalizeWhitespace(MapStep):
    """Strip texts and collapse runs of whitespace to one half-width space (pairs, documents, samples)."""

    name = "normalize_whitespace"
    Params = Params

    def apply(self, record: Record) -> Record:
        if isinstance(record, Pair):
            record.text = normalize_whitespace(record.text)
        elif isinstance(record, Document):
            record.texts = [normalize_whitespace(t) for t in record.texts]
        elif isinstance(record, Sample):
            for m in record.messages:
                m.content = normalize_whitespace(m.content)
        return record

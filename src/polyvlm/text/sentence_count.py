"""sentence_count: a document rule — keep documents with between min_sentences and max_sentences sentences."""

from __future__ import annotations

from pydantic import Field

from polyvlm.core.records import Document, Record
from polyvlm.core.step import FilterStep, Params, register


class SentenceCountParams(Params):
    """Parameters of sentence_count."""

    min_sentences: int = Field(10, ge=0)
    """fewer sentences than this: too_few_sentences (the paper's 10)"""
    max_sentences: int = Field(100, ge=0)
    """more sentences than this: too_many_sentences (the paper's 100)"""


@register
class SentenceCount(FilterStep):
    """Drop documents with fewer than min_sentences or more than max_sentences sentences (run split_sentences first)."""

    name = "sentence_count"
    Params = SentenceCountParams

    def reject(self, record: Record) -> str | None:
        if not isinstance(record, Document):
            return "not_a_document"
        n = len(record.texts)
        if n < self.params.min_sentences:
            return "too_few_sentences"
        if n > self.params.max_sentences:
            return "too_many_sentences"
        return None

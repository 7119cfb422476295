"""exact_dedup: keep the first of records with identical text, corpus-wide (an Aggregate)."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

from polyvlm.core.records import Record, record_text
from polyvlm.core.step import Aggregate, Drop, Params, register


class ExactDedupParams(Params):
    """Parameters of exact_dedup."""

    normalize: bool = True
    """NFKC + whitespace collapsed before hashing"""


@register
class ExactDedup(Aggregate):
    """Drop records whose text equals an earlier record's; 'earlier' is input order, so runs agree."""

    name = "exact_dedup"
    Params = ExactDedupParams

    def _key(self, record: Record) -> bytes:
        text = record_text(record)
        if self.params.normalize:
            text = " ".join(unicodedata.normalize("NFKC", text).split())
        return hashlib.blake2b(text.encode(), digest_size=16).digest()

    def init_state(self) -> dict[bytes, tuple[int, ...]]:
        return {}

    def observe(self, state: dict[bytes, tuple[int, ...]], record: Record, position: tuple[int, ...]) -> None:
        key = self._key(record)
        first = state.get(key)
        if first is None or position < first:
            state[key] = position

    def merge(self, a: dict[bytes, tuple[int, ...]], b: dict[bytes, tuple[int, ...]]) -> dict[bytes, Any]:
        if len(a) < len(b):
            a, b = b, a
        for key, pos in b.items():
            first = a.get(key)
            if first is None or pos < first:
                a[key] = pos
        return a

    def apply(self, state: dict[bytes, tuple[int, ...]], record: Record, position: tuple[int, ...]):
        return record if state.get(self._key(record)) == position else Drop("duplicate")

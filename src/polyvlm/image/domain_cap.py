"""domain_downsample: keep at most N image URLs per domain, corpus-wide, chosen by a seeded hash."""

from __future__ import annotations

import hashlib
import heapq
from urllib.parse import urlsplit

from pydantic import Field

from polyvlm.core.records import Pair, Record
from polyvlm.core.step import Aggregate, Drop, Params, register

State = dict[str, list[int]]  # domain -> the max_per_domain smallest hashes, as a max-heap (negated)


class DomainDownsampleParams(Params):
    """Parameters of domain_downsample."""

    max_per_domain: int = Field(1000, ge=1)
    """pairs kept per image host at most; a very frequent host (a CDN, a shop) is sampled down to this"""
    seed: int = 0
    """which pairs of a frequent host are kept (the same seed keeps the same ones on any engine); default: the recipe's seed"""


def image_host(record: Record) -> str:
    """The lower-cased host of a pair's image URL ('' when it has none)."""
    return (urlsplit(record.image.url).hostname or "") if isinstance(record, Pair) else ""


@register
class DomainDownsample(Aggregate):
    """Keep a seeded random max_per_domain pairs of each image host; the rest go (reason: domain_downsampled)."""

    name = "domain_downsample"
    Params = DomainDownsampleParams

    def _hash(self, record: Record) -> int:
        key = f"{self.params.seed}\x00{record.image.url}\x00{record.id}".encode()  # type: ignore[union-attr]
        return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")

    def init_state(self) -> State:
        return {}

    def observe(self, state: State, record: Record, position: tuple[int, ...]) -> None:
        heap = state.setdefault(image_host(record), [])
        h = -self._hash(record)
        if len(heap) < self.params.max_per_domain:
            heapq.heappush(heap, h)
        elif h > heap[0]:
            heapq.heapreplace(heap, h)

    def merge(self, a: State, b: State) -> State:
        for host, heap in b.items():
            merged = heapq.nlargest(self.params.max_per_domain, a.get(host, []) + heap)
            heapq.heapify(merged)
            a[host] = merged
        return a

    def apply(self, state: State, record: Record, position: tuple[int, ...]) -> Record | Drop:
        heap = state.get(image_host(record), [])
        if len(heap) < self.params.max_per_domain or -self._hash(record) >= heap[0]:
            return record
        return Drop("domain_downsampled", image_host(record))

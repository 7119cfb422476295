"""Keep at most N image URLs per domain, chosen by one seeded hash: corpus-wide (the domain_downsample
aggregate) or within one batch of fetch_images (`urls_over_cap`)."""

from __future__ import annotations

import hashlib
import heapq
from collections import defaultdict
from collections.abc import Iterable
from urllib.parse import urlsplit

from pydantic import Field

from polyvlm.core.records import Pair, Record
from polyvlm.core.step import Aggregate, Drop, Params, register
from polyvlm.image.fetch import domain_of

State = dict[str, list[int]]  # domain -> the max_per_domain smallest hashes, as a max-heap (negated)


class DomainDownsampleParams(Params):
    """Parameters of domain_downsample."""

    max_per_domain: int = Field(1000, ge=1)
    """pairs kept per image host at most; a very frequent host (a CDN, a shop) is sampled down to this"""
    seed: int = 0
    """which pairs of a frequent host are kept (the same seed keeps the same ones on any engine); default: the recipe's seed"""


def seeded_rank(seed: int, *keys: str) -> int:
    """A seeded pseudo-random rank of the keys: the same seed and keys always give the same rank."""
    joined = "\x00".join((str(seed), *keys)).encode()
    return int.from_bytes(hashlib.blake2b(joined, digest_size=8).digest(), "big")


def urls_over_cap(urls: Iterable[str], max_per_domain: int, seed: int = 0) -> set[str]:
    """The URLs to leave out so that no domain has more than max_per_domain (0: no cap); the lowest ranks stay."""
    if max_per_domain <= 0:
        return set()
    by_domain: dict[str, list[str]] = defaultdict(list)
    for url in dict.fromkeys(urls):
        by_domain[domain_of(url)].append(url)
    dropped: set[str] = set()
    for group in by_domain.values():
        if len(group) > max_per_domain:
            group.sort(key=lambda u: seeded_rank(seed, u))
            dropped.update(group[max_per_domain:])
    return dropped


def image_host(record: Record) -> str:
    """The lower-cased host of a pair's image URL ('' when it has none)."""
    return (urlsplit(record.image.url).hostname or "") if isinstance(record, Pair) else ""


@register
class DomainDownsample(Aggregate):
    """Keep a seeded random max_per_domain pairs of each image host; the rest go (reason: domain_downsampled)."""

    name = "domain_downsample"
    Params = DomainDownsampleParams

    def _hash(self, record: Record) -> int:
        return seeded_rank(self.params.seed, record.image.url, record.id)  # type: ignore[union-attr]

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

"""Near-duplicate search among 64-bit perceptual hashes: every pair within Hamming distance k, never all pairs.

The index is faiss's `IndexBinaryMultiHash`: the 64 bits are cut into `m` disjoint substrings of `b` bits,
one hash table each. By the pigeonhole principle, two hashes within distance k differ in at most
floor(k / m) bits of at least one substring, so probing each table at the query's substring and at every
substring within `nflip = k // m` flipped bits finds every neighbour; faiss then checks the full 64-bit
distance of each candidate, so the result is exact (equal to brute force), not approximate.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb

import faiss
import numpy as np

BITS = 64
QUERY_CHUNK = 1 << 16  # queries per faiss call: bounds the result buffers, not the answer


def hashes_from_hex(hexes: Sequence[str]) -> np.ndarray:
    """uint64 hashes from 16-hex-digit strings (ImageRef.phash); a malformed one raises ValueError."""
    out = np.empty(len(hexes), dtype=np.uint64)
    for i, text in enumerate(hexes):
        if len(text) != 16:
            raise ValueError(f"a 64-bit pHash has 16 hex digits, got {text!r}")
        out[i] = int(text, 16)
    return out


def index_plan(n: int, max_distance: int) -> tuple[int, int, int]:
    """(tables m, bits per table b, flips per table) with the fewest expected probes plus candidates for n hashes."""
    best: tuple[float, tuple[int, int, int]] | None = None
    for m in range(1, max_distance + 2):
        b, nflip = BITS // m, max_distance // m
        probes = m * sum(comb(b, i) for i in range(nflip + 1))
        # each probe is a bucket lookup that holds n / 2^b hashes on average (uniform hash bits)
        cost = probes * (1.0 + n / 2.0**b)
        if best is None or cost < best[0]:
            best = (cost, (m, b, nflip))
    assert best is not None
    return best[1]


def _codes(hashes: np.ndarray) -> np.ndarray:
    """The (n, 8) uint8 view faiss's binary indexes take."""
    return np.ascontiguousarray(hashes, dtype=np.uint64).view(np.uint8).reshape(-1, 8)


class HammingIndex:
    """Hashes (with multiplicities) that answer 'which of you lie within max_distance of this hash?'."""

    def __init__(self, hashes: np.ndarray, max_distance: int = 5, weights: np.ndarray | None = None) -> None:
        if not 0 <= max_distance < BITS:
            raise ValueError(f"max_distance must be in [0, {BITS}), got {max_distance}")
        self.max_distance = max_distance
        self.hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
        self.weights = (
            np.ones(len(self.hashes), np.int64) if weights is None else np.asarray(weights, np.int64)
        )
        m, b, nflip = index_plan(len(self.hashes), max_distance)
        self._index = faiss.IndexBinaryMultiHash(BITS, m, b)
        self._index.nflip = nflip
        if len(self.hashes):
            self._index.add(_codes(self.hashes))

    def neighbours(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """CSR form of each query's neighbours: offsets (len(queries)+1) and indexed-hash ids."""
        queries = np.ascontiguousarray(queries, dtype=np.uint64)
        if not len(self.hashes) or not len(queries):
            return np.zeros(len(queries) + 1, np.int64), np.zeros(0, np.int64)
        offsets, labels = [np.zeros(1, np.int64)], []
        for start in range(0, len(queries), QUERY_CHUNK):
            # faiss's binary range search keeps distances strictly below the radius
            lims, _, ids = self._index.range_search(
                _codes(queries[start : start + QUERY_CHUNK]), self.max_distance + 1
            )
            offsets.append(lims[1:].astype(np.int64) + offsets[-1][-1])
            labels.append(ids.astype(np.int64))
        return np.concatenate(offsets), np.concatenate(labels)

    def counts(self, queries: np.ndarray) -> np.ndarray:
        """Total weight of indexed hashes within max_distance of each query (itself included if indexed)."""
        offsets, labels = self.neighbours(queries)
        sums = np.concatenate([[0], np.cumsum(self.weights[labels])])
        return sums[offsets[1:]] - sums[offsets[:-1]]


def near_pairs(hashes: np.ndarray, max_distance: int = 5) -> np.ndarray:
    """Every pair (i, j), i < j, of hashes within max_distance bits, as an (M, 2) int64 array sorted by (i, j)."""
    hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
    offsets, labels = HammingIndex(hashes, max_distance).neighbours(hashes)
    queries = np.repeat(np.arange(len(hashes), dtype=np.int64), np.diff(offsets))
    keep = queries < labels  # each pair once, and not a hash with itself
    pairs = np.stack([queries[keep], labels[keep]], axis=1)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def near_counts(hashes: np.ndarray, max_distance: int = 5) -> np.ndarray:
    """For each hash, how many *other* hashes of the list lie within max_distance bits (copies included)."""
    hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
    # equal hashes collapse to one entry with a weight: a placeholder seen 10^5 times costs one lookup, not 10^10 pairs
    unique, inverse, weight = np.unique(hashes, return_inverse=True, return_counts=True)
    per_unique = HammingIndex(unique, max_distance, weight).counts(unique)
    return per_unique[inverse.reshape(-1)] - 1

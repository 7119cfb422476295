"""Near-duplicate search among 64-bit perceptual hashes: every pair within Hamming distance k, never all pairs.

Multi-index hashing (Norouzi et al.; the scheme of faiss's `IndexBinaryMultiHash`): the 64 bits are cut
into `m` disjoint substrings of `b` bits, one table each. By the pigeonhole principle, two hashes within
distance k differ in at most floor(k / m) bits of at least one substring, so probing each table at the
query's substring and at every substring within `nflip = k // m` flipped bits finds every neighbour;
each candidate's full 64-bit distance is then checked, so the result is exact (equal to brute force).

A table is flat arrays, not hash buckets: the ids sorted by substring, and (for b <= DENSE_BITS) the
start of every substring value's run, so a probe is two array reads for all queries at once (numpy,
vectorised over queries). faiss's per-bucket vectors cost a cache miss per probe and made 10x the hashes
take 57-94x the time (docs/BENCHMARKS.md). A pair found in several tables is kept from the first only.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from math import comb

import numpy as np

BITS = 64
QUERY_CHUNK = 1 << 18  # queries per pass: bounds the candidate buffers, not the answer
DENSE_BITS = 24  # substrings this short get a run-start array of 2^b entries; longer ones binary search


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


class _Table:
    """One substring's table: ids sorted by the substring, and where each substring value's run starts."""

    def __init__(self, hashes: np.ndarray, shift: int, bits: int, nflip: int) -> None:
        self.shift, self.mask = np.uint64(shift), np.uint64((1 << bits) - 1)
        keys = self.key(hashes)
        self.order = np.argsort(keys, kind="stable")
        self.dense = bits <= DENSE_BITS
        if self.dense:
            self.starts = np.zeros((1 << bits) + 1, np.int64)
            np.cumsum(np.bincount(keys.astype(np.int64), minlength=1 << bits), out=self.starts[1:])
        else:
            self.sorted_keys = keys[self.order]
        self.flips = [
            np.uint64(sum(1 << i for i in bits_set))
            for r in range(nflip + 1)
            for bits_set in combinations(range(bits), r)
        ]

    def key(self, hashes: np.ndarray) -> np.ndarray:
        """Each hash's substring."""
        return (hashes >> self.shift) & self.mask

    def runs(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each key's run of ids starts and ends in `order`."""
        if self.dense:
            k = keys.astype(np.int64)
            return self.starts[k], self.starts[k + 1]
        return (
            np.searchsorted(self.sorted_keys, keys, "left"),
            np.searchsorted(self.sorted_keys, keys, "right"),
        )


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
        m, self.bits, self.nflip = index_plan(len(self.hashes), max_distance)
        self._tables = [_Table(self.hashes, t * self.bits, self.bits, self.nflip) for t in range(m)]

    def neighbours(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """CSR form of each query's neighbours: offsets (len(queries)+1) and indexed-hash ids."""
        queries = np.ascontiguousarray(queries, dtype=np.uint64)
        if not len(self.hashes) or not len(queries):
            return np.zeros(len(queries) + 1, np.int64), np.zeros(0, np.int64)
        found_q, found_id = [], []
        for start in range(0, len(queries), QUERY_CHUNK):
            q, ids = self._chunk(queries[start : start + QUERY_CHUNK])
            found_q.append(q + start)
            found_id.append(ids)
        q, ids = np.concatenate(found_q), np.concatenate(found_id)
        order = np.lexsort((ids, q))
        offsets = np.zeros(len(queries) + 1, np.int64)
        np.cumsum(np.bincount(q, minlength=len(queries)), out=offsets[1:])
        return offsets, ids[order]

    def _chunk(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query, id) of every neighbour of a block of queries, each pair once."""
        out_q, out_id = [], []
        for t, table in enumerate(self._tables):
            qkeys = table.key(queries)
            for flip in table.flips:
                lo, hi = table.runs(qkeys ^ flip)
                counts = hi - lo
                total = int(counts.sum())
                if not total:
                    continue
                q = np.repeat(np.arange(len(queries)), counts)
                # position inside each query's run: a running index minus the run's first output slot
                first = np.cumsum(counts) - counts
                pos = np.repeat(lo - first, counts) + np.arange(total)
                ids = table.order[pos]
                diff = queries[q] ^ self.hashes[ids]
                keep = np.bitwise_count(diff) <= self.max_distance
                for earlier in self._tables[:t]:  # found there already: keep the pair once
                    keep &= np.bitwise_count(earlier.key(diff)) > self.nflip
                out_q.append(q[keep])
                out_id.append(ids[keep])
        if not out_q:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(out_q), np.concatenate(out_id)

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

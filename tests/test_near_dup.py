"""The Hamming index (multi-index hashing) equals a numpy brute force, edges at distance k and k+1 included."""

from __future__ import annotations

import numpy as np
import pytest

from polyvlm.image.near_dup import HammingIndex, hashes_from_hex, index_plan, near_counts, near_pairs


def brute_distances(hashes: np.ndarray) -> np.ndarray:
    """The full n x n Hamming distance matrix (small n only)."""
    return np.bitwise_count(hashes[:, None] ^ hashes[None, :]).astype(np.int64)


def flip_bits(h: np.uint64, n_bits: int, rng: np.random.Generator) -> np.uint64:
    """h with n_bits distinct random bits flipped: exactly Hamming n_bits away."""
    mask = 0
    for bit in rng.choice(64, size=n_bits, replace=False):
        mask |= 1 << int(bit)
    return np.uint64(int(h) ^ mask)


def planted(n_random: int, k: int, seed: int) -> np.ndarray:
    """Random hashes plus near copies at distances 0..k+2 (k and k+1 are the edges) and a cluster of copies."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**64 - 1, size=n_random, dtype=np.uint64)
    extra = []
    for i, d in enumerate(list(range(k + 3)) * 4):
        extra.append(flip_bits(base[i], d, rng))
    # a chain: a-b at k, b-c at k, a-c usually farther; and a cluster of 7 equal hashes (a placeholder image)
    a = base[-1]
    b = flip_bits(a, k, rng)
    extra += [b, flip_bits(b, k, rng)] + [base[-2]] * 6
    hashes = np.concatenate([base, np.array(extra, dtype=np.uint64)])
    return hashes[rng.permutation(len(hashes))]


@pytest.mark.parametrize("k", [0, 1, 3, 5, 8])
def test_pairs_equal_brute_force(k):
    hashes = planted(600, k, seed=k)
    dist = brute_distances(hashes)
    i, j = np.nonzero(np.triu(dist <= k, 1))
    expected = np.stack([i, j], axis=1)
    got = near_pairs(hashes, k)
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)
    # the edges were planted: some pair lies at exactly k, and one at k+1 is left out
    assert (dist[got[:, 0], got[:, 1]] == k).any()
    assert ((dist == k + 1).sum()) > 0


@pytest.mark.parametrize("k", [0, 5])
def test_counts_equal_brute_force(k):
    hashes = planted(500, k, seed=10 + k)
    expected = (brute_distances(hashes) <= k).sum(axis=1) - 1
    got = near_counts(hashes, k)
    assert np.array_equal(got, expected)
    assert got.max() >= 6  # the cluster of seven copies: each has six others


def test_index_counts_other_queries_with_weights():
    rng = np.random.default_rng(3)
    indexed = rng.integers(0, 2**64 - 1, size=300, dtype=np.uint64)
    weights = rng.integers(1, 5, size=300)
    queries = np.concatenate([[flip_bits(indexed[0], 5, rng), flip_bits(indexed[1], 6, rng)], indexed[2:50]])
    dist = np.bitwise_count(queries[:, None] ^ indexed[None, :])
    expected = ((dist <= 5) * weights[None, :]).sum(axis=1)
    got = HammingIndex(indexed, 5, weights).counts(queries)
    assert np.array_equal(got, expected)
    assert got[0] >= weights[0]  # the query planted 5 bits from indexed[0] finds it, with its weight


def test_empty_and_tiny_inputs():
    assert near_pairs(np.zeros(0, np.uint64)).shape == (0, 2)
    assert near_counts(np.zeros(0, np.uint64)).shape == (0,)
    assert near_counts(np.array([7], np.uint64)).tolist() == [0]
    assert HammingIndex(np.zeros(0, np.uint64)).counts(np.array([1], np.uint64)).tolist() == [0]


def test_hex_hashes_and_bad_input():
    assert hashes_from_hex(["ffffffffffffffff", "0000000000000001"]).tolist() == [2**64 - 1, 1]
    with pytest.raises(ValueError, match="16 hex digits"):
        hashes_from_hex(["abc"])
    with pytest.raises(ValueError):
        hashes_from_hex(["zzzzzzzzzzzzzzzz"])
    with pytest.raises(ValueError, match="max_distance"):
        HammingIndex(np.zeros(1, np.uint64), 64)


def test_plan_is_exact_by_pigeonhole():
    for n in (10, 10**4, 10**6):
        for k in range(0, 12):
            m, b, nflip = index_plan(n, k)
            assert m * b <= 64
            assert m * (nflip + 1) > k  # some table differs in at most nflip bits for any pair within k


@pytest.mark.parametrize("plan", [(3, 21, 1), (2, 32, 2), (6, 10, 0)])
def test_every_plan_is_exact(plan, monkeypatch):
    """Dense run-start tables (b <= 24) and binary-searched ones, with and without flipped probes."""
    import polyvlm.image.near_dup as near_dup

    monkeypatch.setattr(near_dup, "index_plan", lambda n, k: plan)
    hashes = planted(400, 5, seed=sum(plan))
    dist = brute_distances(hashes)
    i, j = np.nonzero(np.triu(dist <= 5, 1))
    assert np.array_equal(near_pairs(hashes, 5), np.stack([i, j], axis=1))
    assert np.array_equal(near_counts(hashes, 5), (dist <= 5).sum(axis=1) - 1)

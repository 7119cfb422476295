"""Near-duplicate pairs among N 64-bit hashes: polyvlm.image.near_dup (numpy multi-index hashing) vs faiss and brute force.

For each N (default 10^4, 10^5, 10^6), in one run: N hashes = uniform random ones plus planted near
copies (about 1% of N, at Hamming distances 0..k drawn uniformly, and as many decoys at k+1 that must
NOT be found); all pairs within k with `near_pairs`, timed; recall of the planted pairs; no decoy
reported; the same search with faiss's IndexBinaryMultiHash on the same plan (the implementation this
one replaced; skipped when faiss-cpu is not installed), timed and compared; and, where N <= --brute-max,
equality with a numpy brute force (XOR + popcount, in row chunks). Prints wall and CPU seconds (all
threads) per N and their ratios for each 10x step. Goals (issue 12): recall 100%, equal to brute force,
N = 10^6 under 60 s on 2 cores, 10x the hashes in at most 20x the time.

Run: .venv/bin/python benchmarks/near_dup.py [--sizes 10000 100000 1000000] [--k 5] [--brute-max 100000]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from polyvlm.image.near_dup import index_plan, near_pairs

try:
    import faiss
except ImportError:  # the baseline is optional (dev extra)
    faiss = None

PLANTED_SHARE = 0.01


def flip_masks(rng: np.random.Generator, n: int, bits: np.ndarray) -> np.ndarray:
    """n uint64 masks, mask i with bits[i] distinct random bits set."""
    order = np.argsort(rng.random((n, 64)), axis=1)  # a random permutation of bit positions per row
    chosen = np.arange(64)[None, :] < bits[:, None]
    weights = np.left_shift(np.uint64(1), order.astype(np.uint64))
    return np.bitwise_or.reduce(np.where(chosen, weights, np.uint64(0)), axis=1)


def make_hashes(n: int, k: int, seed: int) -> tuple[np.ndarray, set[tuple[int, int]], set[tuple[int, int]]]:
    """n hashes; the planted pairs within k and the decoy pairs at k+1 (as sorted index pairs)."""
    rng = np.random.default_rng(seed)
    n_plant = max(1, int(n * PLANTED_SHARE))
    n_random = n - 2 * n_plant
    hashes = rng.integers(0, 2**64 - 1, size=n_random, dtype=np.uint64)
    sources = rng.choice(n_random, size=2 * n_plant, replace=False)
    distances = np.concatenate([rng.integers(0, k + 1, size=n_plant), np.full(n_plant, k + 1)])
    copies = hashes[sources] ^ flip_masks(rng, 2 * n_plant, distances)
    hashes = np.concatenate([hashes, copies])
    copy_ids = np.arange(n_random, n)
    planted = {(int(s), int(c)) for s, c in zip(sources[:n_plant], copy_ids[:n_plant], strict=True)}
    decoys = {(int(s), int(c)) for s, c in zip(sources[n_plant:], copy_ids[n_plant:], strict=True)}
    return hashes, planted, decoys


def brute_pairs(hashes: np.ndarray, k: int, rows: int = 2048) -> np.ndarray:
    """All pairs i < j within k, by XOR + popcount of row blocks against the whole array."""
    found = []
    for start in range(0, len(hashes), rows):
        block = hashes[start : start + rows]
        i, j = np.nonzero(np.bitwise_count(block[:, None] ^ hashes[None, :]) <= k)
        i += start
        keep = i < j
        found.append(np.stack([i[keep], j[keep]], axis=1))
    pairs = np.concatenate(found) if found else np.zeros((0, 2), np.int64)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def faiss_pairs(hashes: np.ndarray, k: int) -> np.ndarray:
    """All pairs i < j within k with faiss's IndexBinaryMultiHash range search, on index_plan's plan."""
    m, b, nflip = index_plan(len(hashes), k)
    index = faiss.IndexBinaryMultiHash(64, m, b)
    index.nflip = nflip
    codes = np.ascontiguousarray(hashes, dtype=np.uint64).view(np.uint8).reshape(-1, 8)
    index.add(codes)
    found = []
    for start in range(0, len(codes), 1 << 16):
        lims, _, ids = index.range_search(
            codes[start : start + (1 << 16)], k + 1
        )  # strictly below the radius
        q = np.repeat(np.arange(start, start + len(lims) - 1), np.diff(lims.astype(np.int64)))
        keep = q < ids
        found.append(np.stack([q[keep], ids[keep].astype(np.int64)], axis=1))
    pairs = np.concatenate(found)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10**4, 10**5, 10**6])
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--brute-max", type=int, default=10**5, help="largest N also checked by brute force")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(
        f"machine: {os.cpu_count()} cpus, {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(
        f"faiss {faiss.__version__ if faiss else 'not installed'}"
        f"{f' (omp threads {faiss.omp_get_max_threads()})' if faiss else ''}, numpy {np.__version__}, k={args.k}"
    )
    print(
        f"{'N':>9} {'plan m/b/flip':>14} {'seconds':>8} {'CPU s':>7} {'pairs':>8} {'recall':>7} {'decoys':>6}"
        f" {'faiss s':>8} {'= faiss':>8} {'brute s':>8} {'= brute':>8}"
    )
    times: list[tuple[int, float, float]] = []
    faiss_times: list[float] = []
    for n in args.sizes:
        hashes, planted, decoys = make_hashes(n, args.k, args.seed)
        t0, c0 = time.perf_counter(), time.process_time()
        pairs = near_pairs(hashes, args.k)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        times.append((n, seconds, cpu))
        found = {(int(a), int(b)) for a, b in pairs}
        recall = len(planted & found) / len(planted)
        decoys_found = len(decoys & found)
        faiss_s, faiss_equal = "-", "-"
        if faiss is not None:
            t0 = time.perf_counter()
            theirs = faiss_pairs(hashes, args.k)
            faiss_times.append(time.perf_counter() - t0)
            faiss_s, faiss_equal = f"{faiss_times[-1]:.2f}", "yes" if np.array_equal(theirs, pairs) else "NO"
        brute_s, equal = "-", "-"
        if n <= args.brute_max:
            t0 = time.perf_counter()
            expected = brute_pairs(hashes, args.k)
            brute_s = f"{time.perf_counter() - t0:.1f}"
            equal = "yes" if np.array_equal(expected, pairs) else "NO"
        plan = "/".join(map(str, index_plan(n, args.k)))
        print(
            f"{n:>9} {plan:>14} {seconds:>8.2f} {cpu:>7.2f} {len(pairs):>8} {recall:>7.2%} {decoys_found:>6}"
            f" {faiss_s:>8} {faiss_equal:>8} {brute_s:>8} {equal:>8}"
        )
    for (n0, t0, c0), (n1, t1, c1) in zip(times, times[1:], strict=False):
        print(f"N {n0} -> {n1} ({n1 / n0:.0f}x hashes): {t1 / t0:.1f}x wall time, {c1 / c0:.1f}x CPU time")
    for (n0, _, _), (n1, _, _), f0, f1 in zip(times, times[1:], faiss_times, faiss_times[1:], strict=False):
        print(f"faiss N {n0} -> {n1}: {f1 / f0:.1f}x wall time")
    for (n, t, _), f in zip(times, faiss_times, strict=False):
        print(f"N {n}: faiss / polyvlm wall time {f / t:.1f}x")


if __name__ == "__main__":
    main()

"""Seeded bootstrap 95 % confidence intervals for every aggregate a scorer reports (scipy.stats.bootstrap).

Items are resampled with replacement, `n_resamples` times, from a `numpy.random.Generator` seeded with
the run's seed, and the interval is the percentile one (the 2.5th and 97.5th percentiles of the
statistic over the resamples). Percentile rather than BCa: BCa is undefined on degenerate samples
(every item 0 or 1), which accuracy metrics produce all the time. The same seed and the same scores
give the same interval on any machine.

Three shapes cover the metrics:
- `mean_ci(values)`: the mean of per-item values (accuracy, ROUGE-L, a judge's 1-5 score);
- `ratio_ci(numerators, denominators)`: `scale · mean(num) / mean(den)` with the pairs resampled
  together (a judge-relative score: the model's and the reference answer's scores of one item);
- `stratified_ci(strata, statistic)`: each stratum (a category, an image's questions) resampled on its
  own and the statistic computed over all of them (Heron's mean of three category ratios, MME totals).

A CI needs at least two items (in each stratum); with fewer it is (None, None), never a fake zero-width
interval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import bootstrap

N_RESAMPLES = 2000
CONFIDENCE = 0.95
_BATCH_ELEMENTS = 2_000_000  # resamples × items held at once: bounds memory on large tasks


def _interval(low: float, high: float) -> tuple[float | None, float | None]:
    if not (np.isfinite(low) and np.isfinite(high)):
        return None, None
    return float(low), float(high)


def stratified_ci(
    strata: Sequence[Sequence[int]],
    statistic: Callable[..., float],
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> tuple[float | None, float | None]:
    """CI of `statistic(*index_arrays)`, each stratum's item indices resampled on its own."""
    arrays = [np.asarray(s, dtype=np.int64) for s in strata]
    if not arrays or any(len(a) < 2 for a in arrays):
        return None, None

    def stat(*idx: np.ndarray) -> float:
        value = statistic(*idx)
        return np.nan if value is None else float(value)

    result = bootstrap(
        tuple(arrays),
        stat,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        vectorized=False,
        rng=np.random.default_rng(seed),
    )
    return _interval(result.confidence_interval.low, result.confidence_interval.high)


def mean_ci(
    values: Sequence[float],
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> tuple[float | None, float | None]:
    """CI of the mean of `values`."""
    data = np.asarray(values, dtype=np.float64)
    if len(data) < 2:
        return None, None
    if np.all(data == data[0]):  # every resample has the same mean: the interval is that point
        return float(data[0]), float(data[0])
    result = bootstrap(
        (data,),
        np.mean,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        batch=max(1, _BATCH_ELEMENTS // len(data)),
        rng=np.random.default_rng(seed),
    )
    return _interval(result.confidence_interval.low, result.confidence_interval.high)


def ratio_of_means(numerators: np.ndarray, denominators: np.ndarray, scale: float = 100.0) -> float | None:
    """`scale · mean(num) / mean(den)`; None when the denominators' mean is 0 (no ratio exists)."""
    den = float(np.mean(denominators))
    return None if den == 0 else scale * float(np.mean(numerators)) / den


def ratio_ci(
    numerators: Sequence[float],
    denominators: Sequence[float],
    seed: int = 0,
    scale: float = 100.0,
    n_resamples: int = N_RESAMPLES,
) -> tuple[float | None, float | None]:
    """CI of `scale · mean(num) / mean(den)`, the (num, den) pairs resampled together."""
    num = np.asarray(numerators, dtype=np.float64)
    den = np.asarray(denominators, dtype=np.float64)
    if len(num) != len(den):
        raise ValueError(f"{len(num)} numerators but {len(den)} denominators")
    return stratified_ci(
        [range(len(num))],
        lambda idx: ratio_of_means(num[idx], den[idx], scale),
        seed=seed,
        n_resamples=n_resamples,
    )

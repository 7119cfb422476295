"""Repeated judging (`--judge-runs N`): N MetricResults of one judge metric → mean and spread.

The harness builds the judge scorer N times with `run=0 .. N-1` (each run's requests carry seed
`JUDGE_SEED + run`, so they are distinct calls and distinct cache keys, and a resumed run re-reads
its own answers from the cache), scores and aggregates each, and passes the N results here. The
combined headline is the mean of the runs' headlines, with `details["runs"]` (each run's headline),
`details["std"]` (sample standard deviation, ddof=1; 0 for a single run) and the per-category means.
The CI is the envelope of the runs' CIs (lowest low, highest high): conservative, since the runs
judge the same items. `excluded` sums the runs' exclusions (`details["excluded_per_run"]` keeps each),
and `n` is the smallest run's n.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from polyvlm.eval.scorer import MetricResult


def combine_runs(results: Sequence[MetricResult]) -> MetricResult:
    """One MetricResult from N judging runs of the same metric: mean, std and every run's figure."""
    if not results:
        raise ValueError("no judging runs to combine")
    names = {r.metric for r in results}
    if len(names) != 1:
        raise ValueError(f"runs of different metrics cannot be combined: {sorted(names)}")
    headlines = [r.overall for r in results if r.overall is not None]
    lows = [r.ci_low for r in results if r.ci_low is not None]
    highs = [r.ci_high for r in results if r.ci_high is not None]
    categories = sorted({c for r in results for c in r.by_category})
    excluded: Counter[str] = Counter()
    for r in results:
        excluded.update(r.excluded)
    return MetricResult(
        metric=results[0].metric,
        overall=float(np.mean(headlines)) if headlines else None,
        ci_low=min(lows) if lows else None,
        ci_high=max(highs) if highs else None,
        n=min(r.n for r in results),
        excluded=dict(excluded),
        by_category={
            c: float(np.mean([r.by_category[c] for r in results if c in r.by_category])) for c in categories
        },
        details={
            "runs": [r.overall for r in results],
            "std": float(np.std(headlines, ddof=1)) if len(headlines) > 1 else 0.0,
            "n_runs": len(results),
            "excluded_per_run": [dict(r.excluded) for r in results],
            "judge_failures": sum(int(r.details.get("judge_failures", 0)) for r in results),
            "run_details": [r.details for r in results],
        },
    )

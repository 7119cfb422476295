"""Repeated judging runs combined into mean and spread."""

import numpy as np
import pytest

from polyvlm.eval.judge_runs import combine_runs
from polyvlm.eval.scorer import MetricResult


def test_mean_std_envelope_and_summed_exclusions():
    runs = [
        MetricResult(
            "llm_judge_vila", 3.0, 2.5, 3.5, n=10, excluded={"judge_unparsable": 1}, by_category={"a": 3.0}
        ),
        MetricResult(
            "llm_judge_vila", 3.5, 3.0, 4.0, n=9, excluded={"judge_call_failed": 2}, by_category={"a": 4.0}
        ),
        MetricResult("llm_judge_vila", 4.0, 3.4, 4.6, n=10, by_category={"a": 5.0}),
    ]
    combined = combine_runs(runs)
    assert combined.overall == pytest.approx(3.5, abs=1e-12)
    assert combined.details["std"] == pytest.approx(float(np.std([3.0, 3.5, 4.0], ddof=1)), abs=1e-12)
    assert combined.details["runs"] == [3.0, 3.5, 4.0]
    assert (combined.ci_low, combined.ci_high) == (2.5, 4.6)
    assert combined.excluded == {"judge_unparsable": 1, "judge_call_failed": 2} and combined.n == 9
    assert combined.by_category == pytest.approx({"a": 4.0}, abs=1e-12)


def test_refuses_mixed_metrics_and_no_runs():
    with pytest.raises(ValueError):
        combine_runs([])
    with pytest.raises(ValueError):
        combine_runs([MetricResult("a", 1.0), MetricResult("b", 1.0)])

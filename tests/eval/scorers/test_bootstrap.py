"""Seeded bootstrap CIs: reproducible, around the estimate, none from too few items."""

import numpy as np
import pytest

from polyvlm.eval.bootstrap import mean_ci, ratio_ci, ratio_of_means, stratified_ci


def test_mean_ci_is_reproducible_by_seed_and_contains_the_mean():
    values = np.random.default_rng(1).uniform(0, 100, size=200)
    first, again = mean_ci(values, seed=7), mean_ci(values, seed=7)
    assert first == again
    low, high = first
    assert low < float(np.mean(values)) < high
    # a 95 % CI of a mean of 200 uniform(0, 100) values is about ±4 wide around it
    assert high - low == pytest.approx(8.0, abs=3.0)
    assert mean_ci(values, seed=8) != first  # the seed is really used


def test_too_few_items_have_no_interval_and_constant_data_a_point():
    assert mean_ci([], seed=0) == (None, None)
    assert mean_ci([3.0], seed=0) == (None, None)
    assert mean_ci([1.0, 1.0, 1.0], seed=0) == (1.0, 1.0)


def test_ratio_ci_resamples_pairs_and_contains_the_ratio():
    rng = np.random.default_rng(2)
    reference = rng.integers(6, 11, size=50).astype(float)
    model = np.clip(reference - rng.integers(0, 4, size=50), 1, 10)
    ratio = ratio_of_means(model, reference)
    low, high = ratio_ci(model, reference, seed=3)
    assert low < ratio < high <= 100.0 + 1e-9  # the model never beats the reference item by item
    assert ratio_ci(model, reference, seed=3) == (low, high)


def test_ratio_of_means_refuses_a_zero_denominator():
    assert ratio_of_means(np.array([1.0]), np.array([0.0])) is None
    with pytest.raises(ValueError):
        ratio_ci([1.0, 2.0], [1.0], seed=0)


def test_stratified_ci_needs_two_items_in_every_stratum():
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([10.0, 20.0, 30.0])

    def stat(i, j):
        return float(np.mean(a[i]) + np.mean(b[j]))

    low, high = stratified_ci([range(4), range(3)], stat, seed=0)
    assert low < 2.5 + 20.0 < high
    assert stratified_ci([range(4), range(1)], stat, seed=0) == (None, None)

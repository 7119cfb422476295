"""The mixture: shares within tolerance over many draws, single-source batches before the switch,
the same plan whatever the ranks and workers, each rank its own slots."""

from __future__ import annotations

import numpy as np
import pytest

from polyvlm.train.data.loader import rank_plan
from polyvlm.train.data.mixture import Mixture, source_probabilities


def test_text_only_share_and_rates_over_many_draws():
    p = source_probabilities([2.0, 1.0, 5.0], [False, False, True], 0.15)
    np.testing.assert_allclose(p, [0.85 * 2 / 3, 0.85 / 3, 0.15])
    mix = Mixture([50, 30, 20], p, global_batch_size=64, seed=7)
    counts = np.zeros(3)
    for _ in range(300):
        for s, i in mix.next_batch():
            counts[s] += 1
            assert 0 <= i < mix.sizes[s]
    shares = counts / counts.sum()
    np.testing.assert_allclose(shares, p, atol=0.01)  # 19,200 draws: the standard error is < 0.4%


def test_single_source_batches_before_the_switch_then_mixed():
    mix = Mixture(
        [10, 10], source_probabilities([1, 1], [False, False], None), 16, seed=1, single_source_steps=20
    )
    before = [{s for s, _ in mix.next_batch()} for _ in range(20)]
    after = [{s for s, _ in mix.next_batch()} for _ in range(20)]
    assert all(len(b) == 1 for b in before) and {next(iter(b)) for b in before} == {0, 1}
    assert sum(len(a) == 2 for a in after) >= 19


def test_each_source_is_a_permutation_per_epoch_and_state_resumes():
    mix = Mixture([7], np.array([1.0]), 7, seed=3)
    first = [i for _, i in mix.next_batch()]
    assert sorted(first) == list(range(7))
    second = [i for _, i in mix.next_batch()]
    assert sorted(second) == list(range(7)) and second != first  # a new order each epoch
    state = mix.state_dict()
    ahead = [mix.next_batch() for _ in range(3)]
    again = Mixture([7], np.array([1.0]), 7, seed=3)
    again.load_state_dict(state)
    assert [again.next_batch() for _ in range(3)] == ahead
    with pytest.raises(ValueError, match="another mixture"):
        Mixture([7], np.array([1.0]), 7, seed=4).load_state_dict(state)


def test_ranks_split_each_global_batch_into_disjoint_slots():
    mix = Mixture([100, 100], np.array([0.5, 0.5]), 8, seed=0)
    batches = [mix.next_batch() for _ in range(5)]
    plans = [rank_plan(batches, r, 2, micro=2) for r in range(2)]
    assert all(p.accumulation == 2 for p in plans)
    for step, batch in enumerate(batches):
        mine = [x for r in range(2) for mb in plans[r].micro_batches[2 * step : 2 * step + 2] for x in mb]
        assert sorted(mine) == sorted(batch)
        r0 = {x for mb in plans[0].micro_batches[2 * step : 2 * step + 2] for x in mb}
        r1 = {x for mb in plans[1].micro_batches[2 * step : 2 * step + 2] for x in mb}
        assert not r0 & r1

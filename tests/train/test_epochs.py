"""Epochs that mean one pass: a stage counted in epochs per source (or in stage epochs without rates)
draws each source exactly that many times; with rates and a step count it draws by rate."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from polyvlm.core.errors import RecipeError
from polyvlm.train.config import parse_train_config
from polyvlm.train.data.mixture import Mixture
from polyvlm.train.stage_plan import stage_passes

BASE = """\
name: e
model: {{tiny: {{seed: 0}}}}
stages:
  - name: s
    train: {{lm: {{lr: 1.0e-3}}}}
    global_batch_size: 8
{length}    data:
{share}      sources:
        - {{name: a, format: text_jsonl, path: /a.jsonl{a}}}
        - {{name: b, format: text_jsonl, path: /b.jsonl{b}}}
"""


def stage(length="", share="", a="", b=""):
    return parse_train_config(BASE.format(length=length, share=share, a=a, b=b), "e.yaml").stages[0]


def test_which_stages_are_counted_in_passes():
    assert stage_passes(stage(a=", epochs: 1", b=", epochs: 2.5"), [10, 4]) == [10, 10]
    assert stage_passes(stage(length="    epochs: 2\n"), [10, 4]) == [20, 8]  # no rates: passes too
    assert stage_passes(stage(length="    epochs: 1\n", a=", rate: 2.0"), [10, 4]) is None  # by rate
    assert stage_passes(stage(length="    steps: 5\n"), [10, 4]) is None


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"a": ", epochs: 1"}, "every source of the stage, or for none"),
        ({"a": ", epochs: 1, rate: 2.0", "b": ", epochs: 1"}, "drop rate"),
        (
            {"a": ", epochs: 1", "b": ", epochs: 1", "share": "      text_only_share: 0.2\n"},
            "drop text_only_share",
        ),
        ({"a": ", epochs: 1", "b": ", epochs: 1", "length": "    steps: 3\n"}, "drop steps"),
    ],
)
def test_refusals_name_the_conflict(kw, message):
    with pytest.raises(RecipeError, match=message):
        stage(**kw)


def test_passes_draw_each_sample_exactly_as_often_as_its_source_says():
    sizes, passes = [13, 5], [13, 10]  # epochs 1 and 2
    mixture = Mixture(sizes, np.array([0.5, 0.5]), 6, seed=4, passes=passes, window=4)
    slots = [x for _ in range(-(-sum(passes) // 6)) for x in mixture.next_batch()]
    counts = Counter(slots[: sum(passes)])
    by_source = Counter(s for s, _ in slots[: sum(passes)])
    assert by_source == {0: 13, 1: 10}
    assert {counts[(0, i)] for i in range(13)} == {1} and {counts[(1, i)] for i in range(5)} == {2}
    assert mixture.state_dict()["remaining"] == [0, 0]


def test_rates_draw_by_probability_not_by_size():
    mixture = Mixture([100, 10], np.array([0.5, 0.5]), 50, seed=0)
    by_source = Counter(s for _ in range(40) for s, _ in mixture.next_batch())
    assert by_source[1] / 2000 == pytest.approx(0.5, abs=0.03)

"""Train configs: the shipped reference configs load; mistakes are errors with file:line."""

from __future__ import annotations

import textwrap

import pytest

from polyvlm.core.errors import RecipeError
from polyvlm.train.config import load_train_config, parse_train_config

GOOD = """\
name: t
model: {tiny: {seed: 0}}
stages:
  - name: s1
    train:
      connector: {lr: 1.0e-3}
    global_batch_size: 4
    steps: 3
    data:
      sources:
        - {name: a, format: llava_json, path: x.json}
"""


def test_reference_configs_hold_the_published_settings(tmp_path):
    vila = load_train_config("configs/train/llm-jp-vila.yaml")
    lrs = [{m: o.lr for m, o in s.train.trained().items()} for s in vila.stages]
    assert lrs == [{"connector": 1e-3}, {"connector": 5e-5, "lm": 5e-5}, {"connector": 1e-5, "lm": 1e-5}]
    assert all(
        o.warmup_ratio == 0.03 and o.weight_decay == 0
        for s in vila.stages
        for o in s.train.trained().values()
    )
    assert [s.epochs for s in vila.stages] == [1, 1, 1]
    assert [s.deepspeed_config.rsplit("/", 1)[-1] for s in vila.stages] == [
        "zero2.json",
        "zero3.json",
        "zero3.json",
    ]
    jina = load_train_config("configs/train/jina-vlm.yaml")
    s1, s2 = jina.stages
    assert {m: (o.lr, o.warmup_ratio) for m, o in s1.train.trained().items()} == {
        "vision": (6e-6, 0.1), "connector": (2e-4, 0.01), "lm": (2e-5, 0.1)}  # fmt: skip
    assert {m: (o.lr, o.warmup_ratio) for m, o in s2.train.trained().items()} == {
        "vision": (5e-6, 0.1), "connector": (5e-6, 0.1), "lm": (1e-5, 0.1)}  # fmt: skip
    for s in (s1, s2):
        assert s.optimizer.betas == (0.9, 0.95) and s.optimizer.eps == 1e-6 and s.schedule.min_lr_ratio == 0.1
    assert s1.data.text_only_share == 0.15 and s2.data.single_source_fraction == 0.5


@pytest.mark.parametrize(
    "edit, line, words",
    [
        (("    steps: 3\n", "    steps: 3\n    stepz: 4\n"), 9, "unknown key 'stepz'"),
        (("{lr: 1.0e-3}", "{lr: 1.0e-3, decay: 1}"), 6, "unknown key 'decay'"),
        (("format: llava_json", "format: llava"), 11, "sources.0.format"),
        (("connector: {lr: 1.0e-3}", "connector: {lr: -1}"), 6, "greater than 0"),
        (("    steps: 3\n", "    steps: 3\n    epochs: 1\n"), 4, "exactly one of steps or epochs"),
        (("model: {tiny: {seed: 0}}", "model: {}"), 2, "exactly one of path, from_parts, tiny"),
    ],
)
def test_mistakes_name_file_and_line(edit, line, words):
    text = GOOD.replace(*edit)
    assert text != GOOD
    with pytest.raises(RecipeError) as e:
        parse_train_config(text, "t.yaml")
    assert str(e.value).startswith(f"t.yaml:{line}:"), str(e.value)
    assert words in str(e.value)


def test_a_good_config_parses_and_missing_file_is_clear(tmp_path):
    assert parse_train_config(textwrap.dedent(GOOD), "t.yaml").stages[0].steps == 3
    with pytest.raises(RecipeError, match="no such train config"):
        load_train_config(str(tmp_path / "nope.yaml"))

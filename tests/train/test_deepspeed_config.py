"""A stage's DeepSpeed JSON gets its "auto" values from the stage; a value that contradicts the stage,
or a missing JSON, is an error naming what to fix. (No DeepSpeed import: runs without it.)"""

from __future__ import annotations

import json

import pytest

from polyvlm.core.errors import RecipeError
from polyvlm.train.config import load_train_config
from polyvlm.train.deepspeed_engine import stage_config


def test_shipped_zero_jsons_are_filled_from_each_llm_jp_vila_stage():
    vila = load_train_config("configs/train/llm-jp-vila.yaml")
    filled = [stage_config(s, s.global_batch_size // (s.micro_batch_size * 8), 8, True) for s in vila.stages]
    assert [c["zero_optimization"]["stage"] for c in filled] == [2, 3, 3]
    for stage, c in zip(vila.stages, filled, strict=True):
        assert c["train_micro_batch_size_per_gpu"] == stage.micro_batch_size
        assert c["train_batch_size"] == stage.global_batch_size
        assert (
            c["train_micro_batch_size_per_gpu"] * c["gradient_accumulation_steps"] * 8
            == stage.global_batch_size
        )
        assert c["gradient_clipping"] == stage.grad_clip and c["bf16"]["enabled"] is True
        assert c["zero_allow_untested_optimizer"] is True  # torch's AdamW as the client optimiser
    assert filled[1]["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True


def test_a_contradicting_value_or_a_missing_json_is_an_error(tmp_path):
    vila = load_train_config("configs/train/llm-jp-vila.yaml")
    stage = vila.stages[0]
    fixed = tmp_path / "zero2.json"
    fixed.write_text(json.dumps({"zero_optimization": {"stage": 2}, "train_micro_batch_size_per_gpu": 3}))
    with pytest.raises(
        RecipeError, match='train_micro_batch_size_per_gpu is 3, the stage says 16; set it to "auto"'
    ):
        stage_config(stage.model_copy(update={"deepspeed_config": str(fixed)}), 2, 8, False)
    fixed.write_text(json.dumps({"zero_optimization": {"stage": 2}, "train_micro_batch_size_per_gpu": 16}))
    assert stage_config(stage.model_copy(update={"deepspeed_config": str(fixed)}), 2, 8, False)["bf16"] == {
        "enabled": False
    }
    with pytest.raises(RecipeError, match="needs deepspeed_config"):
        stage_config(stage.model_copy(update={"deepspeed_config": None}), 2, 8, False)
    with pytest.raises(RecipeError, match="nope.json"):
        stage_config(stage.model_copy(update={"deepspeed_config": str(tmp_path / "nope.json")}), 2, 8, False)

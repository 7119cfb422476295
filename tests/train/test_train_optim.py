"""Per-module groups and schedules: each parameter in one group, LRs at the schedule's landmarks,
a connector-only stage that moves the connector and nothing else."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from polyvlm.train.config import load_train_config
from polyvlm.train.optim import (
    build_optimizer,
    build_scheduler,
    freeze_for_stage,
    lr_factor,
    parameters_by_module,
    warmup_steps,
)


def lrs_over(stage, model, total):
    freeze_for_stage(model, stage)
    opt = build_optimizer(model, stage)
    sched = build_scheduler(opt, stage, total)
    seen = []
    for _ in range(total):
        seen.append({g["name"]: g["lr"] for g in opt.param_groups})
        opt.step()
        sched.step()
    return seen


def test_jina_stage1_lrs_at_step0_end_of_warmup_and_last_step(model):
    stage = load_train_config("configs/train/jina-vlm.yaml").stages[0]
    total = 200
    seen = lrs_over(stage, model, total)
    peaks = {"vision": 6e-6, "connector": 2e-4, "lm": 2e-5}
    warm = {"vision": 20, "connector": 2, "lm": 20}  # 10% / 1% / 10% of 200
    for m, peak in peaks.items():
        assert warmup_steps(stage.train.trained()[m].warmup_ratio, total) == warm[m]
        assert seen[0][m] == pytest.approx(peak / (warm[m] + 1), rel=1e-9)
        assert seen[warm[m]][m] == pytest.approx(peak, rel=1e-9)  # first step after warmup: the peak
        assert seen[warm[m] - 1][m] < peak
        assert seen[-1][m] == pytest.approx(0.1 * peak, rel=1e-9)  # cosine to 0.1 of peak
        assert all(
            b <= a + 1e-18
            for a, b in zip(
                [s[m] for s in seen[warm[m] :]], [s[m] for s in seen[warm[m] + 1 :]], strict=False
            )
        )


def test_vila_step0_lr_schedule_and_groups(model):
    stage = load_train_config("configs/train/llm-jp-vila.yaml").stages[0]
    seen = lrs_over(stage, model, 100)
    assert set(seen[0]) == {"connector"}
    assert seen[0]["connector"] == pytest.approx(1e-3 / 4)  # ceil(0.03 * 100) = 3 warmup steps
    assert seen[3]["connector"] == pytest.approx(1e-3)
    assert seen[-1]["connector"] == pytest.approx(0.0, abs=1e-15)


def test_lr_factor_midpoint_is_half_way_on_the_cosine():
    assert lr_factor(5 + 50, 106, 5, 0.2) == pytest.approx(0.2 + 0.8 * 0.5 * (1 + math.cos(math.pi * 0.5)))


def test_every_parameter_belongs_to_exactly_one_module(model):
    by_module = parameters_by_module(model)
    counted = sum(len(v) for v in by_module.values())
    assert counted == len(list(model.parameters())) and all(by_module.values())


def test_connector_only_stage_moves_only_the_connector(model, processor):
    stage = load_train_config("configs/train/llm-jp-vila.yaml").stages[0]
    freeze_for_stage(model, stage)
    opt = build_optimizer(model, stage)
    connector_ids = {id(p) for p in model.connector.parameters()}
    held = [p for g in opt.param_groups for p in g["params"]]
    assert {id(p) for p in held} == connector_ids and len(held) == len(connector_ids)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8))
    inputs = processor(text="<|im_start|>user\n<image>何？<|im_end|>\n", images=[image])
    for _ in range(2):
        out = model(**inputs)
        out.logits.float().logsumexp(-1).mean().backward()
        opt.step()
        opt.zero_grad()
    for name, p in model.named_parameters():
        moved = (p.detach() - before[name]).abs().max().item()
        if name.startswith("connector."):
            continue
        assert moved == 0.0, f"{name} moved by {moved} in a connector-only stage"
    assert any(
        (p.detach() - before[n]).abs().max().item() > 0
        for n, p in model.named_parameters()
        if n.startswith("connector.")
    )
    assert all(p.grad is None for n, p in model.named_parameters() if not n.startswith("connector."))
    assert torch.is_grad_enabled()

"""Warmup-stable-decay: each module's own warmup, flat at its peak, then the last decay_ratio of the
stage down to exactly min_lr_ratio of the peak at the last step; the scheduler resumes mid-decay."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from polyvlm.train.config import Schedule, load_train_config
from polyvlm.train.optim import build_optimizer, build_scheduler, freeze_for_stage, wsd_factor

TOTAL = 200
PEAKS = {"vision": 6e-6, "connector": 2e-4, "lm": 2e-5}
WARMUP = {"vision": 20, "connector": 2, "lm": 20}  # the jina stage's 10% / 1% / 10% of 200


def wsd_stage(shape: str = "linear"):
    stage = load_train_config("configs/train/jina-vlm.yaml").stages[0]
    schedule = Schedule(kind="wsd", decay_ratio=0.1, min_lr_ratio=0.1, decay_shape=shape)
    return stage.model_copy(update={"schedule": schedule})


def lrs_over(stage, model, steps, states=None):
    freeze_for_stage(model, stage)
    opt = build_optimizer(model, stage)
    sched = build_scheduler(opt, stage, TOTAL)
    if states is not None:  # as a resume loads them: the optimiser (with its LRs), then the scheduler
        opt.load_state_dict(states[0])
        sched.load_state_dict(states[1])
    seen = []
    for _ in range(steps):
        seen.append({g["name"]: g["lr"] for g in opt.param_groups})
        opt.step()
        sched.step()
    return seen, (opt.state_dict(), sched.state_dict())


def test_wsd_warms_up_stays_flat_and_decays_linearly_to_the_floor(model):
    seen, _ = lrs_over(wsd_stage(), model, TOTAL)
    decay_start = TOTAL - 20  # ceil(0.1 * 200) decay steps
    for m, peak in PEAKS.items():
        lr = [s[m] for s in seen]
        assert lr[0] == pytest.approx(peak / (WARMUP[m] + 1), rel=1e-9)
        assert lr[WARMUP[m] - 1] < peak
        assert all(x == pytest.approx(peak, rel=1e-12) for x in lr[WARMUP[m] : decay_start])
        assert lr[decay_start] < peak  # the decay's first step already lowers it
        assert lr[-1] == pytest.approx(0.1 * peak, rel=1e-9)  # the floor, at the last step
        steps = [b - a for a, b in zip(lr[decay_start - 1 :], lr[decay_start:], strict=False)]
        assert all(d == pytest.approx(-0.9 * peak / 20, rel=1e-6) for d in steps)  # linear: equal steps


def test_one_minus_sqrt_shape_and_its_landmarks():
    # a quarter into the decay sqrt(1/4) = 1/2 of the way down; linear is a quarter of the way
    kwargs = {"total": 100, "warmup": 0, "floor": 0.2, "decay_ratio": 0.2}
    assert wsd_factor(80 + 4, shape="1-sqrt", **kwargs) == pytest.approx(0.2 + 0.8 * (1 - math.sqrt(5 / 20)))
    assert wsd_factor(80 + 4, shape="linear", **kwargs) == pytest.approx(0.2 + 0.8 * (1 - 5 / 20))
    assert wsd_factor(79, **kwargs) == 1.0 and wsd_factor(99, shape="1-sqrt", **kwargs) == pytest.approx(0.2)
    # a decay longer than what the warmup leaves starts right after the warmup
    assert wsd_factor(10, total=20, warmup=10, floor=0.0, decay_ratio=0.9) < 1.0


def test_wsd_scheduler_resumes_mid_decay(model):
    """A scheduler rebuilt and loaded from a state_dict at step k gives the uninterrupted run's LRs."""
    stage = wsd_stage("1-sqrt")
    whole, _ = lrs_over(stage, model, TOTAL)
    _, states = lrs_over(stage, model, 185)
    rest, _ = lrs_over(stage, model, TOTAL - 185, states)
    for a, b in zip(whole[185:], rest, strict=True):
        assert a == pytest.approx(b, rel=1e-12)
    assert whole[185]["lm"] < 2e-5  # the control: resumed inside the decay, not on the flat part


def test_schedule_config_refuses_unknown_kinds_shapes_and_ratios():
    assert Schedule.model_validate({"kind": "wsd", "decay_ratio": 0.2}).decay_shape == "linear"
    for bad in ({"kind": "step"}, {"kind": "wsd", "decay_shape": "exp"}, {"kind": "wsd", "decay_ratio": 0}):
        with pytest.raises(ValidationError):
            Schedule.model_validate(bad)

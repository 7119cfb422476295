"""Per-module parameter groups, AdamW, and a warmup + cosine (or warmup-stable-decay) schedule per group.

Every parameter of the model belongs to exactly one module (vision tower, connector, LM); a stage
trains some modules and freezes the rest. Each trained module is one AdamW group with its own peak
learning rate, warmup and weight decay; the check that each trained parameter sits in exactly one
group is an assertion, not a hope.

Schedule of a group with peak ``lr``, ``w`` warmup steps, ``T`` steps and floor ``f`` (step t from 0):

- warmup, ``t < w``: ``lr * (t + 1) / (w + 1)`` (never 0, so step 0 already learns a little)
- cosine (``kind: cosine``), ``t >= w``: ``lr * (f + (1 - f) * (1 + cos(pi * p)) / 2)`` with
  ``p = (t - w) / max(1, T - 1 - w)``, so the first step after warmup runs at ``lr`` and the last step
  at exactly ``f * lr``.
- warmup-stable-decay (``kind: wsd``, MiniCPM, Hu et al. 2024, arXiv:2404.06395; LLM-jp-4-VL trains
  with it): ``d = max(1, ceil(decay_ratio * T))`` decay steps start at ``s = max(w, T - d)``; flat at
  ``lr`` for ``w <= t < s``; then ``lr * (f + (1 - f) * (1 - g(p)))`` with ``p = (t - s + 1) / (T - s)``,
  so the last step runs at exactly ``f * lr``. ``g`` is ``decay_shape``: ``linear`` ``g(p) = p``
  (the default: what the LLM-jp and transformers' ``get_wsd_schedule`` name first) or ``1-sqrt``
  ``g(p) = sqrt(p)`` (Hägele et al. 2024, arXiv:2405.18392, found it ahead of linear). MiniCPM's own
  exponential decay never reaches a floor at a set step, so it is not offered.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from polyvlm.train.config import MODULES, Schedule, StageConfig

MODULE_ATTRS = {"vision": "vision_tower", "connector": "connector", "lm": "language_model"}


def module_of(model: nn.Module, name: str) -> nn.Module:
    """The submodule a config's module name ('vision', 'connector', 'lm') stands for."""
    return getattr(model, MODULE_ATTRS[name])


def parameters_by_module(model: nn.Module) -> dict[str, list[tuple[str, nn.Parameter]]]:
    """Every parameter of ``model`` under its module; raises if one belongs to none or to two."""
    owner: dict[int, str] = {}
    out: dict[str, list[tuple[str, nn.Parameter]]] = {m: [] for m in MODULES}
    for m in MODULES:
        for pname, p in module_of(model, m).named_parameters():
            if id(p) in owner:
                raise AssertionError(f"parameter {pname} is shared by {owner[id(p)]} and {m}")
            owner[id(p)] = m
            out[m].append((f"{MODULE_ATTRS[m]}.{pname}", p))
    loose = [n for n, p in model.named_parameters() if id(p) not in owner]
    if loose:
        raise AssertionError(f"parameters outside vision/connector/lm: {loose[:5]}")
    return out


def freeze_for_stage(model: nn.Module, stage: StageConfig) -> None:
    """Train the stage's modules, freeze the others (requires_grad)."""
    trained = stage.train.trained()
    for m, params in parameters_by_module(model).items():
        for _, p in params:
            p.requires_grad_(m in trained)


def param_groups(model: nn.Module, stage: StageConfig) -> list[dict]:
    """One AdamW group per trained module (name, params, lr, weight_decay), each parameter in exactly one."""
    by_module = parameters_by_module(model)
    groups = [
        {
            "name": m,
            "params": [p for _, p in by_module[m] if p.requires_grad],
            "lr": opt.lr,
            "weight_decay": opt.weight_decay,
        }
        for m, opt in stage.train.trained().items()
    ]
    seen: dict[int, str] = {}
    for g in groups:
        for p in g["params"]:
            assert id(p) not in seen, f"a parameter is in groups {seen[id(p)]} and {g['name']}"
            seen[id(p)] = g["name"]
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert trainable == set(seen), f"{len(trainable - set(seen))} trainable parameters are in no group"
    return [g for g in groups if g["params"]]


def build_optimizer(model: nn.Module, stage: StageConfig) -> torch.optim.AdamW:
    """AdamW over the stage's groups (call freeze_for_stage first)."""
    return torch.optim.AdamW(param_groups(model, stage), betas=stage.optimizer.betas, eps=stage.optimizer.eps)


def lr_factor(step: int, total: int, warmup: int, floor: float) -> float:
    """The schedule's multiplier of the peak learning rate at ``step`` (see the module docstring)."""
    if step < warmup:
        return (step + 1) / (warmup + 1)
    progress = min(1.0, (step - warmup) / max(1, total - 1 - warmup))
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def wsd_factor(
    step: int, total: int, warmup: int, floor: float, decay_ratio: float, shape: str = "linear"
) -> float:
    """The warmup-stable-decay multiplier of the peak learning rate at ``step`` (see the module docstring)."""
    if step < warmup:
        return (step + 1) / (warmup + 1)
    start = max(warmup, total - max(1, math.ceil(decay_ratio * total)))
    if step < start:
        return 1.0
    progress = min(1.0, (step - start + 1) / max(1, total - start))
    decayed = math.sqrt(progress) if shape == "1-sqrt" else progress
    return floor + (1 - floor) * (1 - decayed)


def warmup_steps(ratio: float, total: int) -> int:
    """Warmup steps for a ratio of the stage (rounded up: a 3% warmup of 10 steps is 1 step)."""
    return math.ceil(ratio * total)


def schedule_factor(schedule: Schedule, total: int, warmup: int) -> Callable[[int], float]:
    """The multiplier of a group's peak learning rate as a function of the step, for ``schedule``."""
    if schedule.kind == "wsd":
        return partial(
            wsd_factor,
            total=total,
            warmup=warmup,
            floor=schedule.min_lr_ratio,
            decay_ratio=schedule.decay_ratio,
            shape=schedule.decay_shape,
        )
    return partial(lr_factor, total=total, warmup=warmup, floor=schedule.min_lr_ratio)


def build_scheduler(
    optimizer: torch.optim.Optimizer, stage: StageConfig, total_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A LambdaLR with one lambda per group: its module's warmup, then the stage's cosine or WSD."""
    trained = stage.train.trained()
    lambdas = [
        schedule_factor(
            stage.schedule, total_steps, warmup_steps(trained[g["name"]].warmup_ratio, total_steps)
        )
        for g in optimizer.param_groups
    ]
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambdas)

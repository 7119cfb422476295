"""What a training stage asks of its engine, whatever runs it: torch (one process, DDP, FSDP2) or DeepSpeed.

The stage runner (train/stage_runner.py) calls only these: the module to run forward on, a context and
a backward per micro-batch, one optimiser step per global batch (returning the gradient norm), the
learning rates, the engine's part of a checkpoint, and the saved model at the stage's end. An engine is
built around a model already frozen for its stage; built with a checkpoint, it starts from that
checkpoint's weights, optimiser and schedule. Implementations: ``TorchStageEngine``
(train/torch_engine.py) and ``DeepSpeedStageEngine`` (train/deepspeed_engine.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from polyvlm.train.config import StageConfig
from polyvlm.train.distributed import DistContext


@dataclass(frozen=True)
class EngineSetup:
    """What an engine is built for: the stage, this process's place, the stage's length, accumulation, precision."""

    stage: StageConfig
    ctx: DistContext
    steps: int
    """optimiser steps in the stage (the schedule's length)"""
    accumulation: int
    """micro-batches per optimiser step on each rank"""
    bf16: bool


class StageEngine(ABC):
    """One stage's model, optimiser and schedule behind one interface (see the module docstring)."""

    starts_from_saved_model: ClassVar[bool] = False
    """True when each stage needs a fresh engine around the model the previous stage saved (and a
    checkpoint holds only what the engine trains, so a resumed stage also starts from that model)"""

    model: nn.Module
    """the plain PolyVLM (its config, its parameters)"""
    module: nn.Module
    """what forward is called on: the model, its DDP wrapper, or DeepSpeed's engine"""
    optimizer: torch.optim.Optimizer

    @abstractmethod
    def __init__(self, model: nn.Module, setup: EngineSetup, checkpoint: str | None = None) -> None:
        """Wrap ``model`` and build its optimiser and schedule; from ``checkpoint``'s state when given."""

    @property
    @abstractmethod
    def shards_vision(self) -> bool:
        """Whether the vision tower gathers its shards in forward, so every rank must run it every step."""

    @abstractmethod
    def micro_step(self, last: bool) -> AbstractContextManager:
        """The context of one micro-batch's forward and backward; ``last`` ends the global batch."""

    @abstractmethod
    def backward(self, loss: torch.Tensor, last: bool) -> None:
        """Backpropagate ``loss`` (already divided by the global batch's supervised tokens)."""

    @abstractmethod
    def step(self) -> float:
        """At the global batch's end: clip, the optimiser and schedule steps, zeroed gradients; the gradient norm."""

    @abstractmethod
    def save_state(self, directory: str) -> None:
        """Write weights, optimiser and schedule into a checkpoint's ``directory`` (called on every rank)."""

    @abstractmethod
    def save_model(self, processor, target: str) -> None:
        """``save_pretrained`` of the whole model and the processor into ``target`` (called on every rank)."""

    @abstractmethod
    def close(self) -> None:
        """Release what the engine holds beyond the model (called after save_model)."""

    def learning_rates(self) -> dict[str, float]:
        """The learning rate of each trained module for the step about to be taken."""
        return {g["name"]: g["lr"] for g in self.optimizer.param_groups}

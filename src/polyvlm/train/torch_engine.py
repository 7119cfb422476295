"""Torch's engines for a stage: the model alone (one process), in DDP, or sharded by FSDP2, with our AdamW.

Accumulation: backward of every micro-batch, gradients synchronised over ranks on the last only (DDP's
``no_sync``, FSDP2's ``set_requires_gradient_sync``); then clipping, AdamW, the schedule and zeroed
gradients. bf16 runs under autocast. A checkpoint holds full state dicts (``model.pt``,
``optimizer.pt``, ``scheduler.pt``), gathered onto rank 0 under FSDP2; the weights go back into the
model before it is wrapped, since ``fully_shard`` replaces the parameters.
"""

from __future__ import annotations

import contextlib
import os
from contextlib import AbstractContextManager

import torch
from torch import nn

from polyvlm.train.checkpoint import save_gathered_model_dir, save_model_dir
from polyvlm.train.distributed import DistContext, wrap_model
from polyvlm.train.optim import build_optimizer, build_scheduler
from polyvlm.train.stage_engine import EngineSetup, StageEngine


class TorchStageEngine(StageEngine):
    """A stage on torch: no wrapper, DDP or FSDP2 (``ctx.strategy``), our AdamW and LambdaLR stepped here."""

    def __init__(self, model: nn.Module, setup: EngineSetup, checkpoint: str | None = None) -> None:
        ctx = setup.ctx
        if checkpoint is not None:
            model.load_state_dict(
                torch.load(os.path.join(checkpoint, "model.pt"), map_location="cpu", weights_only=True)
            )
        self.model, self.ctx, self.bf16 = model, ctx, setup.bf16
        self.grad_clip = setup.stage.grad_clip or float("inf")
        self.module = wrap_model(model, ctx)  # before the optimizer: fully_shard replaces the parameters
        self.optimizer = build_optimizer(model, setup.stage)
        self.scheduler = build_scheduler(self.optimizer, setup.stage, setup.steps)
        self.params = [p for p in model.parameters() if p.requires_grad]
        if checkpoint is not None:
            self._load_state(checkpoint)

    @property
    def shards_vision(self) -> bool:
        """FSDP2 over several ranks shards every encoder layer."""
        return self.ctx.world > 1 and self.ctx.strategy == "fsdp2"

    def micro_step(self, last: bool) -> AbstractContextManager:
        """Gradients synchronised only on the last micro-batch; autocast under bf16."""
        stack = contextlib.ExitStack()
        stack.enter_context(_gradient_sync(self.module, self.ctx, last))
        if self.bf16:
            stack.enter_context(torch.autocast(self.ctx.device.type, dtype=torch.bfloat16))
        return stack

    def backward(self, loss: torch.Tensor, last: bool) -> None:
        """Plain autograd: the normaliser already weighs every supervised token of the global batch."""
        loss.backward()

    def step(self) -> float:
        """Clip, AdamW, the schedule, zeroed gradients; the norm before clipping."""
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip))
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return grad_norm

    def save_state(self, directory: str) -> None:
        """Full model and optimiser state dicts (gathering them is a collective), written by rank 0."""
        # the plain model's keys: DDP's would carry a "module." prefix that the plain model, loaded before
        # it is wrapped on resume, does not know (FSDP2 shards the plain model in place: the same module)
        model = _model_state(self.model, self.ctx)
        optimizer = _optimizer_state(self.module, self.optimizer, self.ctx)
        if self.ctx.is_main:
            torch.save(model, os.path.join(directory, "model.pt"))
            torch.save(optimizer, os.path.join(directory, "optimizer.pt"))
            torch.save(self.scheduler.state_dict(), os.path.join(directory, "scheduler.pt"))

    def save_model(self, processor, target: str) -> None:
        """The model as it is, or (FSDP2) an unsharded copy of its gathered weights."""
        if self.ctx.strategy == "fsdp2":
            save_gathered_model_dir(
                self.model, _model_state(self.module, self.ctx), processor, target, self.ctx
            )
        else:
            save_model_dir(self.model, processor, target, self.ctx)

    def close(self) -> None:
        """Nothing to release: the model, wrapped or sharded, carries on into the next stage."""

    def _load_state(self, directory: str) -> None:
        state = torch.load(os.path.join(directory, "optimizer.pt"), map_location="cpu", weights_only=False)
        if self.ctx.strategy == "fsdp2":
            from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

            set_optimizer_state_dict(
                self.module, self.optimizer, state, options=StateDictOptions(full_state_dict=True)
            )
        else:
            self.optimizer.load_state_dict(state)
        self.scheduler.load_state_dict(
            torch.load(os.path.join(directory, "scheduler.pt"), weights_only=False)
        )


def _gradient_sync(module: nn.Module, ctx: DistContext, sync: bool) -> AbstractContextManager:
    """A context in which backward does (``sync``) or does not yet all-reduce gradients (accumulation)."""
    if ctx.strategy == "ddp" and not sync:
        return module.no_sync()
    if ctx.strategy == "fsdp2":
        module.set_requires_gradient_sync(sync)
    return contextlib.nullcontext()


def _model_state(module: nn.Module, ctx: DistContext) -> dict:
    """The full model state dict (gathered from the shards under FSDP2: a collective)."""
    if ctx.strategy == "fsdp2":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        return get_model_state_dict(module, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    return module.state_dict()


def _optimizer_state(module: nn.Module, optimizer: torch.optim.Optimizer, ctx: DistContext) -> dict:
    """The full optimizer state dict (gathered under FSDP2: a collective)."""
    if ctx.strategy == "fsdp2":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

        return get_optimizer_state_dict(
            module, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
        )
    return optimizer.state_dict()

"""Checkpoints written atomically: model, optimizer, scheduler, every rank's RNG, and the data position.

A checkpoint is a directory ``checkpoints/stage{S}-step{N:07d}`` written under a temporary name and
renamed when complete, so a kill at any moment leaves either the whole checkpoint or none. It holds:

- ``model.pt``, ``optimizer.pt``, ``scheduler.pt`` (full state dicts, gathered on rank 0 under FSDP2);
  under DeepSpeed instead ``deepspeed/``, written by its engine (each rank's partition of weights and
  optimiser state, and the scheduler);
- ``rng-rank{R}.pt``: Python, NumPy and torch (CPU and CUDA) generator states of each rank;
- ``meta.json``: stage, step, the mixture's position (step and per-source cursors), what the packer
  held (always nothing: packing happens inside a global batch, so no sample waits across steps),
  the config's sha256 and the world size.
"""

from __future__ import annotations

import glob
import json
import os
import random
import re
import shutil
from dataclasses import dataclass

import numpy as np
import torch

from polyvlm.core.errors import RecipeError
from polyvlm.train.distributed import DistContext, barrier

_NAME = re.compile(r"stage(\d+)-step(\d+)$")


@dataclass
class Checkpoint:
    """A complete checkpoint on disk and what its meta.json says."""

    path: str
    stage: int
    step: int
    meta: dict


def checkpoint_dir(out_dir: str) -> str:
    """Where a run's checkpoints live."""
    return os.path.join(out_dir, "checkpoints")


def latest_checkpoint(out_dir: str) -> Checkpoint | None:
    """The furthest complete checkpoint of a run, or None."""
    found = []
    for path in glob.glob(os.path.join(checkpoint_dir(out_dir), "stage*-step*")):
        m = _NAME.search(path)
        if m and os.path.isfile(os.path.join(path, "meta.json")):
            found.append((int(m[1]), int(m[2]), path))
    if not found:
        return None
    stage, step, path = max(found)
    with open(os.path.join(path, "meta.json"), encoding="utf-8") as f:
        return Checkpoint(path, stage, step, json.load(f))


def rng_state() -> dict:
    """This process's generator states."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore generator states saved by rng_state."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def model_state(model: torch.nn.Module, ctx: DistContext) -> dict | None:
    """The full model state dict (on rank 0; gathered from the shards under FSDP2)."""
    if ctx.strategy == "fsdp2":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    return model.state_dict()


def optimizer_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer, ctx: DistContext) -> dict:
    """The full optimizer state dict (gathered under FSDP2)."""
    if ctx.strategy == "fsdp2":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

        return get_optimizer_state_dict(
            model, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
        )
    return optimizer.state_dict()


def save_checkpoint(
    out_dir: str,
    stage: int,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler,
    meta: dict,
    ctx: DistContext,
    keep: int = 2,
) -> str:
    """Write a checkpoint atomically (temp dir + rename); keep the newest ``keep``. Returns its path."""
    root = checkpoint_dir(out_dir)
    final = os.path.join(root, f"stage{stage}-step{step:07d}")
    tmp = os.path.join(root, f".tmp-stage{stage}-step{step:07d}")
    engine = ctx.strategy == "deepspeed"  # ``model`` is DeepSpeed's engine: it writes its own partitions
    states = (
        None if engine else (model_state(model, ctx), optimizer_state(model, optimizer, ctx))
    )  # collectives
    if ctx.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        if states is not None:
            torch.save(states[0], os.path.join(tmp, "model.pt"))
            torch.save(states[1], os.path.join(tmp, "optimizer.pt"))
            torch.save(scheduler.state_dict(), os.path.join(tmp, "scheduler.pt"))
    barrier(ctx)
    if engine:
        from polyvlm.train.deepspeed_engine import save_engine_state

        save_engine_state(model, tmp)  # weights, optimiser and scheduler, each rank its partition
    torch.save(rng_state(), os.path.join(tmp, f"rng-rank{ctx.rank}.pt"))
    barrier(ctx)
    if ctx.is_main:
        with open(os.path.join(tmp, "meta.json"), "w", encoding="utf-8") as f:
            json.dump({**meta, "stage": stage, "step": step, "world_size": ctx.world}, f, indent=1)
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
        _prune(root, keep)
    barrier(ctx)
    return final


def _prune(root: str, keep: int) -> None:
    done = sorted(
        (tuple(int(x) for x in _NAME.search(p).groups()), p)
        for p in glob.glob(os.path.join(root, "stage*-step*"))
        if _NAME.search(p)
    )
    for _, path in done[:-keep]:
        shutil.rmtree(path, ignore_errors=True)


def load_model_state(model: torch.nn.Module, ckpt: Checkpoint) -> None:
    """Put the checkpoint's weights into the (not yet wrapped) model."""
    state = torch.load(os.path.join(ckpt.path, "model.pt"), map_location="cpu", weights_only=True)
    model.load_state_dict(state)


def load_training_state(optimizer, scheduler, ckpt: Checkpoint, ctx: DistContext, model=None) -> None:
    """Optimizer, scheduler and this rank's RNG from the checkpoint (DeepSpeed: the weights too, into its engine)."""
    if ckpt.meta.get("world_size") != ctx.world:
        raise RecipeError(
            f"{ckpt.path} was written by {ckpt.meta.get('world_size')} processes, this run has {ctx.world}: "
            "resume with the same number (the data plan gives each rank its own slots)"
        )
    if ctx.strategy == "deepspeed":
        from polyvlm.train.deepspeed_engine import load_engine_state

        load_engine_state(model, ckpt.path)
        set_rng_state(torch.load(os.path.join(ckpt.path, f"rng-rank{ctx.rank}.pt"), weights_only=False))
        return
    opt_state = torch.load(os.path.join(ckpt.path, "optimizer.pt"), map_location="cpu", weights_only=False)
    if ctx.strategy == "fsdp2":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

        set_optimizer_state_dict(model, optimizer, opt_state, options=StateDictOptions(full_state_dict=True))
    else:
        optimizer.load_state_dict(opt_state)
    scheduler.load_state_dict(torch.load(os.path.join(ckpt.path, "scheduler.pt"), weights_only=False))
    set_rng_state(torch.load(os.path.join(ckpt.path, f"rng-rank{ctx.rank}.pt"), weights_only=False))


def save_model_dir(model: torch.nn.Module, processor, target: str, ctx: DistContext, engine=None) -> None:
    """``save_pretrained`` of the model and processor on rank 0 (FSDP2 / DeepSpeed: gathered into an unsharded copy first)."""
    if ctx.strategy not in ("fsdp2", "deepspeed"):
        if ctx.is_main:
            model.save_pretrained(target)
            processor.save_pretrained(target)
        barrier(ctx)
        return
    if ctx.strategy == "deepspeed":
        from polyvlm.train.deepspeed_engine import full_state_dict

        full = full_state_dict(engine, ctx)  # a collective under ZeRO-3
    else:
        full = model_state(model, ctx)  # a collective: every rank takes part
    if ctx.is_main:
        from polyvlm.model.modeling import PolyVLMForConditionalGeneration

        with torch.device("meta"):
            plain = PolyVLMForConditionalGeneration(model.config)
        plain.load_state_dict(full, assign=True)
        plain.generation_config = model.generation_config
        plain.save_pretrained(target)
        processor.save_pretrained(target)
    barrier(ctx)

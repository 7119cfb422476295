"""Checkpoints written atomically: model, optimizer, scheduler, every rank's RNG, and the data position.

A checkpoint is a directory ``checkpoints/stage{S}-step{N:07d}`` written under a temporary name and
renamed when complete, so a kill at any moment leaves either the whole checkpoint or none. It holds:

- the engine's state, written by the stage's engine (train/stage_engine.py): ``model.pt``,
  ``optimizer.pt``, ``scheduler.pt`` from torch's (full state dicts, gathered on rank 0 under FSDP2);
  ``deepspeed/`` from DeepSpeed's (each rank's partition of weights and optimiser state, and the
  scheduler);
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
from collections.abc import Callable
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


def save_checkpoint(
    out_dir: str,
    stage: int,
    step: int,
    write_state: Callable[[str], None],
    meta: dict,
    ctx: DistContext,
    keep: int = 2,
) -> str:
    """Write a checkpoint atomically (temp dir + rename); keep the newest ``keep``. Returns its path.

    ``write_state(directory)`` runs on every rank once the directory exists: the engine writes its
    weights, optimiser and scheduler there (gathered to rank 0, or each rank its partition).
    """
    root = checkpoint_dir(out_dir)
    final = os.path.join(root, f"stage{stage}-step{step:07d}")
    tmp = os.path.join(root, f".tmp-stage{stage}-step{step:07d}")
    if ctx.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
    barrier(ctx)
    write_state(tmp)
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


def check_world_size(ckpt: Checkpoint, ctx: DistContext) -> None:
    """Refuse a checkpoint written by another number of processes (each rank has its own data slots)."""
    if ckpt.meta.get("world_size") != ctx.world:
        raise RecipeError(
            f"{ckpt.path} was written by {ckpt.meta.get('world_size')} processes, this run has {ctx.world}: "
            "resume with the same number (the data plan gives each rank its own slots)"
        )


def load_rng_state(ckpt: Checkpoint, ctx: DistContext) -> None:
    """This rank's generator states from the checkpoint."""
    set_rng_state(torch.load(os.path.join(ckpt.path, f"rng-rank{ctx.rank}.pt"), weights_only=False))


def save_model_dir(model: torch.nn.Module, processor, target: str, ctx: DistContext) -> None:
    """``save_pretrained`` of the model and processor on rank 0."""
    if ctx.is_main:
        model.save_pretrained(target)
        processor.save_pretrained(target)
    barrier(ctx)


def save_gathered_model_dir(
    model: torch.nn.Module, state: dict | None, processor, target: str, ctx: DistContext
) -> None:
    """``save_pretrained`` of an unsharded copy of ``model`` holding ``state`` (the whole state dict on rank 0)."""
    if ctx.is_main:
        from polyvlm.model.modeling import PolyVLMForConditionalGeneration

        with torch.device("meta"):
            plain = PolyVLMForConditionalGeneration(model.config)
        plain.load_state_dict(state, assign=True)
        plain.generation_config = model.generation_config
        plain.save_pretrained(target)
        processor.save_pretrained(target)
    barrier(ctx)

"""Processes working together, through torch.distributed: who am I, sum this, wrap the model.

Launch with ``torchrun --nproc-per-node N -m polyvlm.cli train CONFIG`` (or ``accelerate launch``,
which sets the same RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR variables). Strategies:
``ddp`` (DistributedDataParallel) and ``fsdp2`` (``torch.distributed.fsdp.fully_shard`` on each
decoder / encoder layer, then the root); ``deepspeed`` (ZeRO-2 / 3) is wrapped by DeepSpeed's own engine
(train/deepspeed_engine.py). One process: no wrapping at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from polyvlm.core.errors import RecipeError
from polyvlm.train.deepspeed_import import import_deepspeed


@dataclass
class DistContext:
    """This process's place: rank, world size, device, strategy."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    strategy: str = "none"

    @property
    def is_main(self) -> bool:
        """Rank 0 writes logs, checkpoints and the final model."""
        return self.rank == 0


def init_distributed(strategy: str, backend: str) -> DistContext:
    """Join the process group torchrun / accelerate set up (if any) and pick the device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if strategy == "auto":
        strategy = "ddp" if world > 1 else "none"
    if world == 1 and strategy in ("ddp", "fsdp2"):
        strategy = "none"  # one process (no launcher): nothing to share, no process group to join
    if world > 1 and strategy == "none":
        raise RecipeError(f"{world} processes were launched but distributed.strategy is 'none'")
    if world == 1 and strategy == "deepspeed":
        strategy = "none"  # ZeRO partitions over ranks: with one process there is nothing to partition
    cuda = torch.cuda.is_available()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        backend = ("nccl" if cuda else "gloo") if backend == "auto" else backend
        if strategy == "deepspeed":
            import_deepspeed().init_distributed(dist_backend=backend)  # also sets up deepspeed.comm
        else:
            dist.init_process_group(backend=backend)
    rank = dist.get_rank() if dist.is_initialized() else 0
    return DistContext(rank, world, local_rank, device, strategy)


def all_reduce_sum(value: float, ctx: DistContext) -> float:
    """The sum of ``value`` over all ranks (float64, so token counts stay exact)."""
    if ctx.world == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=ctx.device if ctx.device.type == "cuda" else "cpu")
    dist.all_reduce(t)
    return float(t.item())


def barrier(ctx: DistContext) -> None:
    """Wait for every rank."""
    if ctx.world > 1:
        dist.barrier()


def wrap_model(model: nn.Module, ctx: DistContext) -> nn.Module:
    """DDP or FSDP2 around ``model`` (DeepSpeed wraps in its own initialize)."""
    if ctx.strategy == "ddp":
        from torch.nn.parallel import DistributedDataParallel

        # SigLIP's layers after the last feature layer the connector reads (and its post-norm) never get a
        # gradient: DDP must be told, or it waits for them forever.
        return DistributedDataParallel(
            model, device_ids=[ctx.device] if ctx.device.type == "cuda" else None, find_unused_parameters=True
        )
    if ctx.strategy == "fsdp2":
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import FSDPModule, fully_shard

        if isinstance(model, FSDPModule):  # sharded by an earlier stage
            return model

        mesh = init_device_mesh(ctx.device.type, (ctx.world,))
        layer_classes = set()
        for part in model.children():
            layer_classes |= set(getattr(part, "_no_split_modules", None) or [])
        for module in model.modules():
            if type(module).__name__ in layer_classes:
                fully_shard(module, mesh=mesh)
        return fully_shard(model, mesh=mesh)
    return model


def close_distributed() -> None:
    """Leave the process group."""
    if dist.is_initialized():
        dist.destroy_process_group()

"""One stage, whatever engine runs it: a plan of global batches run as accumulated micro-batches.

Per stage: check the batch sizes, prepare the model (device, gradient checkpointing, attention kernel,
what trains), open the engine (train/stage_engine.py: torch's for one process, DDP and FSDP2,
DeepSpeed's for ZeRO) from the checkpoint when resuming, seek the mixture to the checkpoint's position,
then for every step: this rank's micro-batches from the dataloader, the global batch's supervised-token
count (all-reduced), forward and backward of each micro-batch, the engine's optimiser step, a log line,
the failure gate, and a checkpoint every ``checkpoint_every`` steps and at the stage's end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from tqdm import tqdm

from polyvlm.core.errors import RecipeError
from polyvlm.train.checkpoint import Checkpoint, check_world_size, load_rng_state, save_checkpoint
from polyvlm.train.config import StageConfig, TrainConfig
from polyvlm.train.data.loader import MicroBatches, PlanSampler, micro_batch_loader
from polyvlm.train.data.mixture import Mixture
from polyvlm.train.data.packing import MicroBatch
from polyvlm.train.deepspeed_engine import DeepSpeedStageEngine
from polyvlm.train.distributed import DistContext, all_reduce_sum
from polyvlm.train.failure_gate import FailureGate
from polyvlm.train.loss import micro_batch_loss
from polyvlm.train.optim import freeze_for_stage
from polyvlm.train.run_log import RunLog
from polyvlm.train.segment_attention import SEGMENTS, use_lm_attention
from polyvlm.train.stage_engine import EngineSetup, StageEngine
from polyvlm.train.stage_plan import StagePlan
from polyvlm.train.torch_engine import TorchStageEngine


@dataclass
class StageRun:
    """One stage in its run: the config and stage index, its seed and plan, this process, where it logs."""

    config: TrainConfig
    index: int
    seed: int
    plan: StagePlan
    ctx: DistContext
    log: RunLog
    steps_before: int
    """the earlier stages' steps (a log line's global_step)"""
    data_report: dict
    """data.json so far (this stage's and the earlier ones'): every checkpoint records it, so a resumed
    run knows the finished stages' lengths without reading their data"""
    progress: bool = True

    @property
    def stage(self) -> StageConfig:
        """The stage's config."""
        return self.config.stages[self.index]


def engine_class(strategy: str) -> type[StageEngine]:
    """The engine a distributed strategy trains with: DeepSpeed's for 'deepspeed', torch's for the others."""
    return DeepSpeedStageEngine if strategy == "deepspeed" else TorchStageEngine


def run_stage(run: StageRun, model: torch.nn.Module, processor, ckpt: Checkpoint | None) -> StageEngine:
    """Train one stage (from ``ckpt`` when it is this stage's); returns its engine, to save the model and close."""
    stage, ctx, total = run.stage, run.ctx, run.plan.steps
    accumulation = _accumulation(stage, ctx.world)
    torch.manual_seed(run.seed)
    _prepare_model(model, run.config, stage, ctx)
    if ckpt is not None:
        check_world_size(ckpt, ctx)
    setup = EngineSetup(stage, ctx, total, accumulation, run.config.precision == "bf16")
    engine = engine_class(ctx.strategy)(model, setup, ckpt.path if ckpt is not None else None)
    # advanced step by step beside the loader: its state is what checkpoints store
    mixture = run.plan.make_mixture()
    start = 0
    if ckpt is not None:
        load_rng_state(ckpt, ctx)
        start = ckpt.step
        _seek(mixture, ckpt)
    batches = _micro_batches(run, processor, engine, mixture if start else None, start)
    gate = FailureGate(stage.name, run.config.max_failed_share, total * stage.global_batch_size,
                       run.config.line_of("stages", run.index))  # fmt: skip
    bar = tqdm(range(start, total), desc=stage.name, disable=not (run.progress and ctx.is_main), unit="step")
    for step in bar:
        t0 = time.perf_counter()
        mbs = [next(batches) for _ in range(accumulation)]
        mixture.next_batch()  # the loader drew this batch ahead: the state after it is the checkpoint's
        result = _train_step(engine, mbs, run.config, ctx)
        _log_step(run, step, mbs, result, t0)
        failed = int(all_reduce_sum(sum(len(mb.dropped) for mb in mbs), ctx))
        dropped = {k: v for mb in mbs for k, v in mb.dropped.items()}
        gate.add(stage.global_batch_size, failed, result.supervised, dropped)
        bar.set_postfix(loss=f"{result.loss:.3f}", dropped=gate.failed)
        # before the checkpoint: a stage past the failure share saves neither a checkpoint nor a model
        gate.check(final=step + 1 == total)
        if (step + 1) % run.config.checkpoint_every == 0 or step + 1 == total:
            _checkpoint(run, engine, mixture, step + 1)
    return engine


def _accumulation(stage: StageConfig, world: int) -> int:
    """Micro-batches per optimiser step on each rank; refuses a global batch the ranks cannot split evenly."""
    per_step = stage.micro_batch_size * world
    if stage.global_batch_size % per_step:
        raise RecipeError(
            f"stage {stage.name!r}: global_batch_size {stage.global_batch_size} is not a multiple of "
            f"micro_batch_size x processes = {per_step}"
        )
    return stage.global_batch_size // per_step


def _prepare_model(model: torch.nn.Module, config: TrainConfig, stage: StageConfig, ctx: DistContext) -> None:
    """On its device in train mode, with the run's attention kernel and checkpointing; only the stage's modules train."""
    model.to(ctx.device).train()
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if config.attention == "flash_attention_2" and ctx.device.type != "cuda":
        raise RecipeError(
            "attention: flash_attention_2 needs a GPU and flash-attn; use segments (the default) or sdpa on CPU"
        )
    use_lm_attention(model, SEGMENTS if config.attention == "segments" else config.attention)
    freeze_for_stage(model, stage)


def _seek(mixture: Mixture, ckpt: Checkpoint) -> None:
    """Put the mixture at the checkpoint's data position: resume seeks there, reading nothing before it."""
    try:
        mixture.load_state_dict(ckpt.meta["mixture"])
    except (ValueError, KeyError, TypeError) as e:
        raise RecipeError(
            f"{ckpt.path}: its data position does not match this config's sources: {e}"
        ) from None
    if mixture.step != ckpt.step:
        raise RecipeError(
            f"{ckpt.path}: its data position is step {mixture.step}, its weights step {ckpt.step}"
        )


def _micro_batches(run: StageRun, processor, engine: StageEngine, resumed: Mixture | None, start: int):
    """This rank's micro-batches from step ``start`` on, from the mixture's position ``resumed`` (None: the start)."""
    stage, ctx = run.stage, run.ctx
    # A sharded vision tower (FSDP2, ZeRO-3) all-gathers its weights in forward, trained or frozen: a rank
    # holding only text must run it too (dummy image, zero weight), or the other ranks wait for it forever
    needs_vision = engine.shards_vision or bool({"vision", "connector"} & set(stage.train.trained()))
    dataset = MicroBatches(run.plan.sources, processor, stage.data.max_length, stage.data.packing,
                           stage.data.max_tiles, needs_vision=needs_vision)  # fmt: skip
    sampler = PlanSampler(run.plan.make_mixture, resumed.state_dict() if resumed is not None else None,
                          run.plan.steps - start, ctx.rank, ctx.world, stage.micro_batch_size)  # fmt: skip
    return iter(micro_batch_loader(dataset, sampler, stage.data.num_workers))


@dataclass
class StepResult:
    """What one optimiser step measured, over all ranks."""

    loss: float
    """summed cross-entropy / supervised tokens of the global batch"""
    supervised: float
    """supervised tokens of the global batch"""
    lrs: dict[str, float]
    """each trained module's learning rate during the step"""
    grad_norm: float


def _train_step(
    engine: StageEngine, mbs: list[MicroBatch], config: TrainConfig, ctx: DistContext
) -> StepResult:
    """One optimiser step over this rank's micro-batches (forward and backward of each, then the engine's step)."""
    n_global = all_reduce_sum(sum(mb.supervised for mb in mbs), ctx)
    # DDP, FSDP and DeepSpeed average gradients over ranks: scale back up so every supervised token weighs 1/N
    normaliser = max(n_global, 1.0) / ctx.world
    dtype = torch.bfloat16 if config.precision == "bf16" else torch.float32
    loss_sum = 0.0
    for k, mb in enumerate(mbs):
        last = k == len(mbs) - 1
        with engine.micro_step(last):
            loss, s = micro_batch_loss(engine.module, mb, normaliser, config.attention == "flash_attention_2",
                                       dtype, ctx.device, segments=config.attention == "segments")  # fmt: skip
            engine.backward(loss, last)
        loss_sum += s
    lrs = engine.learning_rates()
    grad_norm = engine.step()
    return StepResult(all_reduce_sum(loss_sum, ctx) / max(n_global, 1.0), n_global, lrs, grad_norm)


def _log_step(run: StageRun, step: int, mbs: list[MicroBatch], result: StepResult, started: float) -> None:
    """The step's samples and dropped samples (every rank), and its log line (rank 0, every ``log_every``)."""
    ctx, config = run.ctx, run.config
    tokens = all_reduce_sum(sum(mb.tokens for mb in mbs), ctx)
    padding = all_reduce_sum(sum(mb.padding for mb in mbs), ctx)
    elapsed = time.perf_counter() - started
    position = {"stage": run.index, "step": step + 1}
    run.log.write("samples", {**position, "ids": [i for mb in mbs for i in mb.sample_ids]})
    for mb in mbs:
        for sid, reason in mb.dropped.items():
            run.log.write("errors", {**position, "id": sid, "reason": reason})
    if ctx.is_main and ((step + 1) % config.log_every == 0 or step + 1 == run.plan.steps):
        run.log.write("log", {
            **position, "stage_name": run.stage.name, "global_step": run.steps_before + step + 1,
            "loss": result.loss, "lr": result.lrs, "grad_norm": result.grad_norm, "tokens": tokens,
            "supervised_tokens": result.supervised,
            "padding_share": padding / max(tokens + padding, 1), "tokens_per_s": tokens / elapsed,
        })  # fmt: skip


def _checkpoint(run: StageRun, engine: StageEngine, mixture: Mixture, step: int) -> None:
    """A checkpoint after ``step``: the engine's state, every rank's RNG, the data position and data.json so far."""
    meta = {"stage_name": run.stage.name, "total_steps": run.plan.steps, "mixture": mixture.state_dict(),
            "packer": {"carried": []}, "config": run.config.model_dump(mode="json"),
            "data": run.data_report}  # fmt: skip
    save_checkpoint(
        run.config.out_dir, run.index, step, engine.save_state, meta, run.ctx, run.config.keep_checkpoints
    )

"""The training loop: stages in order, each a plan of global batches run as accumulated micro-batches.

Per stage: index the sources (cached: a restart reads no record to find its place), set up the mixture
(drawn one global batch at a time, as the dataloader asks), freeze what does not train, build AdamW + schedules, wrap for DDP / FSDP2 / DeepSpeed, then for every step: this rank's
micro-batches from the dataloader, the global batch's supervised-token count (all-reduced), backward
of each micro-batch (gradient sync on the last only), clipping, the optimiser and scheduler steps, a
log line, and a checkpoint every ``checkpoint_every`` steps and at the stage's end. Started again on
the same output directory, a run continues from its latest checkpoint: same plan, same weights,
optimiser, schedules and generator states, so the losses that follow are the uninterrupted run's.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from tqdm import tqdm

from polyvlm.core.errors import RecipeError
from polyvlm.io.atomic import write_json_atomic
from polyvlm.train.checkpoint import (
    Checkpoint,
    latest_checkpoint,
    load_model_state,
    load_training_state,
    save_checkpoint,
    save_model_dir,
)
from polyvlm.train.config import StageConfig, TrainConfig
from polyvlm.train.data.loader import MicroBatches, PlanSampler, micro_batch_loader
from polyvlm.train.data.mixture import Mixture, source_probabilities
from polyvlm.train.data.sources import describe_drops
from polyvlm.train.data.stream import StreamSource, source_index
from polyvlm.train.deepspeed_engine import initialize, stage_config, zero_stage
from polyvlm.train.distributed import (
    DistContext,
    all_reduce_sum,
    close_distributed,
    gradient_sync,
    init_distributed,
    unwrap,
    wrap_model,
)
from polyvlm.train.failure_gate import FailureGate, check_source_drops
from polyvlm.train.loss import micro_batch_loss
from polyvlm.train.model_start import load_dir, load_start
from polyvlm.train.optim import build_optimizer, build_scheduler, freeze_for_stage
from polyvlm.train.plot import loss_curve_svg
from polyvlm.train.preflight import check_sources
from polyvlm.train.resume_check import resume_conflicts
from polyvlm.train.run_log import RunLog, read_log
from polyvlm.train.segment_attention import SEGMENTS, use_lm_attention


@dataclass
class StagePlan:
    """A stage's data, ready to stream: its sources by position, its length and its mixture's start."""

    sources: list[StreamSource]
    steps: int
    make_mixture: Callable[[], Mixture]
    """a fresh mixture at the stage's first step"""
    counts: dict[str, dict]
    """per source: files' records read, samples kept, records dropped by reason (data.json)"""


def stage_passes(stage: StageConfig, sizes: list[int]) -> list[int] | None:
    """Samples of each source in the stage when it is counted in passes (epochs), else None (rates)."""
    data = stage.data
    if data.per_source_epochs:
        return [max(1, round(s.epochs * n)) for s, n in zip(data.sources, sizes, strict=True)]  # type: ignore[operator]
    rated = any("rate" in s.model_fields_set for s in data.sources) or data.text_only_share is not None
    if stage.epochs is not None and not rated:  # a stage's epochs are passes over each source
        return [max(1, round(stage.epochs * n)) for n in sizes]
    return None


def plan_stage(config: TrainConfig, si: int, seed: int) -> StagePlan:
    """Index the stage's sources (each within the failure share) and set up its mixture."""
    stage = config.stages[si]
    indexes = [source_index(s) for s in stage.data.sources]
    for k, index in enumerate(indexes):
        where = config.line_of("stages", si, "data", "sources", k, "path")
        check_source_drops(index, config.max_failed_share, where)
        if not len(index):
            raise RecipeError(f"{where}: source {index.config.name!r}: no usable sample in {index.config.path!r}: "
                              f"{describe_drops(index)}")  # fmt: skip
    sizes = [len(i) for i in indexes]
    passes = stage_passes(stage, sizes)
    if passes is not None:
        p = [n / sum(passes) for n in passes]
        total = max(1, math.ceil(sum(passes) / stage.global_batch_size))
    else:
        try:
            p = source_probabilities(
                [s.rate for s in stage.data.sources],
                [s.is_text_only for s in stage.data.sources],
                stage.data.text_only_share,
            )
        except ValueError as e:
            raise RecipeError(f"stage {stage.name!r}: {e}") from None
        total = stage.steps or max(1, math.ceil(stage.epochs * sum(sizes) / stage.global_batch_size))
    make = functools.partial(Mixture, sizes, p, stage.global_batch_size, seed,
                             int(stage.data.single_source_fraction * total), passes, stage.data.shuffle_window)  # fmt: skip
    counts = {
        i.config.name: {"path": i.config.path, "read": i.read, "samples": len(i), "dropped": dict(i.dropped)}
        for i in indexes
    }
    return StagePlan([StreamSource(i) for i in indexes], total, make, counts)


def train(config: TrainConfig, config_text: str, resume: bool = True, progress: bool = True) -> str:
    """Run every stage of ``config`` (resuming from the latest checkpoint); returns the final model's dir."""
    ctx = init_distributed(config.distributed.strategy, config.distributed.backend)
    try:
        return _train(config, config_text, ctx, resume, progress)
    finally:
        close_distributed()


def _train(config: TrainConfig, config_text: str, ctx: DistContext, resume: bool, progress: bool) -> str:
    out = config.out_dir
    # every stage's data opened now: a later stage's bad path stops the run before the first step
    for line in check_sources(config):
        if progress and ctx.is_main:
            tqdm.write(line)
    os.makedirs(out, exist_ok=True)
    config_sha = hashlib.sha256(config_text.encode()).hexdigest()
    ckpt = latest_checkpoint(out) if resume else None
    if ckpt is not None:
        _check_resumable(ckpt, config, config_sha)
    log = RunLog(out, ctx.rank, ctx.is_main)
    if not resume:
        for path in log.paths.values():
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
    if ckpt is not None:
        log.truncate_after(ckpt.stage, ckpt.step)
    model, processor = load_start(config.model)
    global_step = 0
    data_report: dict[str, dict] = {}
    for si, stage in enumerate(config.stages):
        seed = stage.seed if stage.seed is not None else config.seed + si
        plan = plan_stage(config, si, seed)
        total = plan.steps
        data_report[stage.name] = {"steps": total, "samples_planned": total * stage.global_batch_size,
                                   "sources": plan.counts}  # fmt: skip
        if ctx.is_main:
            write_json_atomic(os.path.join(out, "data.json"), data_report)
        if ckpt is not None and si < ckpt.stage:
            global_step += total
            continue  # done before the kill: the checkpoint's weights carry it
        resuming = ckpt is not None and si == ckpt.stage  # the checkpoint's weights replace the start
        if si > 0 and stage.start == "model" and not resuming:
            model, processor = load_start(config.model)
        elif stage.start not in ("previous", "model") and not resuming:
            model, processor = load_dir(stage.start)
        elif resuming and ctx.strategy == "deepspeed" and stage.start == "previous" and si > 0:
            # DeepSpeed's checkpoint restores what its engine trains; weights this stage freezes come from
            # the previous stage's saved model, as they did in the uninterrupted run
            model, processor = load_dir(os.path.join(out, "stages", config.stages[si - 1].name))
        resume_here = ckpt if ckpt is not None and si == ckpt.stage else None
        wrapped = _run_stage(config, si, stage, seed, plan, model, processor, ctx, log, resume_here,
                             global_step, progress)  # fmt: skip
        global_step += total
        target = os.path.join(
            out, "final" if si == len(config.stages) - 1 else os.path.join("stages", stage.name)
        )
        # what a saved model runs with: the segments kernel needs training's segments= argument
        use_lm_attention(unwrap(model), "sdpa")
        save_model_dir(unwrap(model), processor, target, ctx, engine=wrapped)
        if ctx.strategy == "deepspeed":
            # each stage gets a fresh engine (its own ZeRO stage) around a plain model: the next one
            # starts from the weights just gathered and saved, not from this engine's partitioned module
            wrapped.destroy()
            if si + 1 < len(config.stages):
                model, processor = load_dir(target)
    log.close()
    if ctx.is_main:
        records = read_log(os.path.join(out, "log.jsonl"))
        with open(os.path.join(out, "loss.svg"), "w", encoding="utf-8") as f:
            f.write(loss_curve_svg(records, f"{config.name}: training loss"))
    return os.path.join(out, "final")


def _check_resumable(ckpt: Checkpoint, config: TrainConfig, config_sha: str) -> None:
    """Refuse to resume from a checkpoint whose config differs in a way that changes the run."""
    saved = ckpt.meta.get("config")
    if saved is None:  # written before configs were stored: only the same text is known to be safe
        if ckpt.meta.get("config_sha256") != config_sha:
            raise RecipeError(
                f"{config.out_dir} holds checkpoints of a different config; use another output_dir or --fresh"
            )
        return
    conflicts = resume_conflicts(saved, config.model_dump(mode="json"), ckpt.stage)
    if conflicts:
        shown = ", ".join(conflicts[:8]) + (f" and {len(conflicts) - 8} more" if len(conflicts) > 8 else "")
        raise RecipeError(
            f"{config.out_dir}: {ckpt.path} was trained with other values of {shown}; these change the run "
            "being resumed: restore them, use another output_dir, or --fresh to start over"
        )


def _run_stage(
    config: TrainConfig,
    si: int,
    stage: StageConfig,
    seed: int,
    plan: StagePlan,
    model,
    processor,
    ctx: DistContext,
    log: RunLog,
    ckpt: Checkpoint | None,
    global_offset: int,
    progress: bool,
) -> torch.nn.Module:
    """Train one stage; returns the model as wrapped for it (DDP / FSDP2 module or DeepSpeed engine)."""
    total = plan.steps
    per_step = stage.micro_batch_size * ctx.world
    if stage.global_batch_size % per_step:
        raise RecipeError(
            f"stage {stage.name!r}: global_batch_size {stage.global_batch_size} is not a multiple of "
            f"micro_batch_size x processes = {per_step}"
        )
    torch.manual_seed(seed)
    deepspeed = ctx.strategy == "deepspeed"
    if ckpt is not None and not deepspeed:  # DeepSpeed loads the weights into its engine below
        load_model_state(model, ckpt)
    model.to(ctx.device).train()
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if config.attention == "flash_attention_2" and ctx.device.type != "cuda":
        raise RecipeError(
            "attention: flash_attention_2 needs a GPU and flash-attn; use segments (the default) or sdpa on CPU"
        )
    use_lm_attention(model, SEGMENTS if config.attention == "segments" else config.attention)
    freeze_for_stage(model, stage)
    wrapped = wrap_model(model, ctx)  # before the optimizer: fully_shard replaces the parameters
    optimizer = build_optimizer(model, stage)
    scheduler = build_scheduler(optimizer, stage, total)
    accumulation = stage.global_batch_size // per_step
    if deepspeed:
        ds_config = stage_config(stage, accumulation, ctx.world, config.precision == "bf16")
        wrapped = initialize(model, optimizer, scheduler, ds_config)
    start = 0
    mixture = (
        plan.make_mixture()
    )  # advanced step by step beside the loader: its state is what checkpoints store
    if ckpt is not None:
        load_training_state(optimizer, scheduler, ckpt, ctx, wrapped)
        start = ckpt.step
        try:  # the position itself: resume seeks there, reading nothing before it
            mixture.load_state_dict(ckpt.meta["mixture"])
        except (ValueError, KeyError, TypeError) as e:
            raise RecipeError(
                f"{ckpt.path}: its data position does not match this config's sources: {e}"
            ) from None
        if mixture.step != start:
            raise RecipeError(
                f"{ckpt.path}: its data position is step {mixture.step}, its weights step {start}"
            )
    trained = stage.train.trained()
    # A sharded vision tower (FSDP2, ZeRO-3) all-gathers its weights in forward, trained or frozen: a rank
    # holding only text must run it too (dummy image, zero weight), or the other ranks wait for it forever
    sharded = ctx.world > 1 and (ctx.strategy == "fsdp2" or (deepspeed and zero_stage(wrapped) == 3))
    needs_vision = sharded or bool({"vision", "connector"} & set(trained))
    dataset = MicroBatches(plan.sources, processor, stage.data.max_length, stage.data.packing,
                           stage.data.max_tiles, needs_vision=needs_vision)  # fmt: skip
    sampler = PlanSampler(plan.make_mixture, mixture.state_dict() if start else None, total - start,
                          ctx.rank, ctx.world, stage.micro_batch_size)  # fmt: skip
    batches = iter(micro_batch_loader(dataset, sampler, stage.data.num_workers))
    dtype = torch.bfloat16 if config.precision == "bf16" else torch.float32
    autocast = (  # DeepSpeed casts the model to bf16 itself (its JSON's bf16.enabled)
        torch.autocast(ctx.device.type, dtype=torch.bfloat16)
        if config.precision == "bf16" and not deepspeed
        else contextlib.nullcontext()
    )
    params = [p for p in model.parameters() if p.requires_grad]
    where = config.line_of("stages", si)
    gate = FailureGate(stage.name, config.max_failed_share, total * stage.global_batch_size, where)
    bar = tqdm(range(start, total), desc=stage.name, disable=not (progress and ctx.is_main), unit="step")
    for step in bar:
        t0 = time.perf_counter()
        mbs = [next(batches) for _ in range(accumulation)]
        mixture.next_batch()  # the loader drew this batch ahead: the state after it is the checkpoint's
        n_global = all_reduce_sum(sum(mb.supervised for mb in mbs), ctx)
        # DDP and FSDP average gradients over ranks: scale back up so every supervised token weighs 1/N
        normaliser = max(n_global, 1.0) / ctx.world
        loss_sum = 0.0
        for k, mb in enumerate(mbs):
            with gradient_sync(wrapped, ctx, k == len(mbs) - 1), autocast:
                loss, s = micro_batch_loss(
                    wrapped,
                    mb,
                    normaliser,
                    config.attention == "flash_attention_2",
                    dtype,
                    ctx.device,
                    segments=config.attention == "segments",
                )
                if deepspeed:
                    # the loss is already divided by the global batch's supervised tokens: no 1/accumulation
                    wrapped.backward(loss, scale_wrt_gas=False)
                else:
                    loss.backward()
            loss_sum += s
            if deepspeed and k < len(mbs) - 1:
                wrapped.step()  # not at the boundary: the engine only counts the micro-step
        lrs = {g["name"]: g["lr"] for g in optimizer.param_groups}
        if deepspeed:
            wrapped.step()  # the boundary: reduce, clip, AdamW, our schedule
            grad_norm = float(wrapped.get_global_grad_norm() or 0.0)
        else:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, stage.grad_clip or float("inf")))
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
        loss_global = all_reduce_sum(loss_sum, ctx) / max(n_global, 1.0)
        tokens = all_reduce_sum(sum(mb.tokens for mb in mbs), ctx)
        padding = all_reduce_sum(sum(mb.padding for mb in mbs), ctx)
        elapsed = time.perf_counter() - t0
        position = {"stage": si, "step": step + 1}
        log.write("samples", {**position, "ids": [i for mb in mbs for i in mb.sample_ids]})
        for mb in mbs:
            for sid, reason in mb.dropped.items():
                log.write("errors", {**position, "id": sid, "reason": reason})
        if ctx.is_main and ((step + 1) % config.log_every == 0 or step + 1 == total):
            log.write("log", {
                **position, "stage_name": stage.name, "global_step": global_offset + step + 1, "loss": loss_global,
                "lr": lrs, "grad_norm": grad_norm, "tokens": tokens, "supervised_tokens": n_global,
                "padding_share": padding / max(tokens + padding, 1), "tokens_per_s": tokens / elapsed,
            })  # fmt: skip
        failed = int(all_reduce_sum(sum(len(mb.dropped) for mb in mbs), ctx))
        gate.add(
            stage.global_batch_size, failed, n_global, {k: v for mb in mbs for k, v in mb.dropped.items()}
        )
        bar.set_postfix(loss=f"{loss_global:.3f}", dropped=gate.failed)
        # before the checkpoint: a stage past the failure share saves neither a checkpoint nor a model
        gate.check(final=step + 1 == total)
        if (step + 1) % config.checkpoint_every == 0 or step + 1 == total:
            meta = {"stage_name": stage.name, "total_steps": total, "mixture": mixture.state_dict(),
                    "packer": {"carried": []}, "config": config.model_dump(mode="json")}  # fmt: skip
            save_checkpoint(
                config.out_dir,
                si,
                step + 1,
                wrapped,
                optimizer,
                scheduler,
                meta,
                ctx,
                config.keep_checkpoints,
            )
    return wrapped

"""The training loop: stages in order, each run by the stage runner, each ending in a saved model.

Per stage: plan its data (train/stage_plan.py: sources indexed by position, cached, so a restart reads
no record to find its place), take the model it starts from, run it (train/stage_runner.py, through the
engine the distributed strategy picks: torch's or DeepSpeed's) and save the model it ends with. Started
again on the same output directory, a run continues from its latest checkpoint: the stages it finished
are skipped without reading their data (the checkpoint records their lengths), the checkpoint's stage
continues with the same plan, weights, optimiser, schedules and generator states, so the losses that
follow are the uninterrupted run's.
"""

from __future__ import annotations

import contextlib
import hashlib
import os

from tqdm import tqdm

from polyvlm.core.errors import RecipeError
from polyvlm.io.atomic import write_json_atomic
from polyvlm.train.checkpoint import Checkpoint, latest_checkpoint
from polyvlm.train.config import TrainConfig
from polyvlm.train.distributed import DistContext, close_distributed, init_distributed
from polyvlm.train.model_start import load_dir, load_start
from polyvlm.train.plot import loss_curve_svg
from polyvlm.train.preflight import check_sources
from polyvlm.train.resume_check import resume_conflicts
from polyvlm.train.run_log import RunLog, read_log
from polyvlm.train.segment_attention import use_lm_attention
from polyvlm.train.stage_plan import plan_stage
from polyvlm.train.stage_runner import StageRun, engine_class, run_stage


def train(config: TrainConfig, config_text: str, resume: bool = True, progress: bool = True) -> str:
    """Run every stage of ``config`` (resuming from the latest checkpoint); returns the final model's dir."""
    ctx = init_distributed(config.distributed.strategy, config.distributed.backend)
    try:
        return _train(config, config_text, ctx, resume, progress)
    finally:
        close_distributed()


def _train(config: TrainConfig, config_text: str, ctx: DistContext, resume: bool, progress: bool) -> str:
    out = config.out_dir
    config_sha = hashlib.sha256(config_text.encode()).hexdigest()
    ckpt = latest_checkpoint(out) if resume else None
    if ckpt is not None:
        _check_resumable(ckpt, config, config_sha)
    # every stage still to run opens its data now: a later stage's bad path stops the run before the
    # first step; a finished stage's data is not read again
    for line in check_sources(config, first_stage=ckpt.stage if ckpt is not None else 0):
        if progress and ctx.is_main:
            tqdm.write(line)
    os.makedirs(out, exist_ok=True)
    log = RunLog(out, ctx.rank, ctx.is_main)
    if not resume:
        for path in log.paths.values():
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
    if ckpt is not None:
        log.truncate_after(ckpt.stage, ckpt.step)
    model, processor = load_start(config.model)
    starts_from_saved = engine_class(ctx.strategy).starts_from_saved_model
    steps_before = 0
    data_report: dict[str, dict] = {}
    for si, stage in enumerate(config.stages):
        seed = stage.seed if stage.seed is not None else config.seed + si
        if ckpt is not None and si < ckpt.stage:  # done before the kill: the checkpoint's weights carry it
            data_report[stage.name] = _finished_stage(ckpt, config, si, seed)
            steps_before += data_report[stage.name]["steps"]
            continue
        plan = plan_stage(config, si, seed)
        data_report[stage.name] = plan.report(stage.global_batch_size)
        if ctx.is_main:
            write_json_atomic(os.path.join(out, "data.json"), data_report)
        resuming = ckpt is not None and si == ckpt.stage  # the checkpoint's weights replace the start
        model, processor = _stage_start(config, si, resuming, starts_from_saved) or (model, processor)
        run = StageRun(config, si, seed, plan, ctx, log, steps_before, data_report, progress)
        engine = run_stage(run, model, processor, ckpt if resuming else None)
        steps_before += plan.steps
        target = os.path.join(
            out, "final" if si == len(config.stages) - 1 else os.path.join("stages", stage.name)
        )
        # what a saved model runs with: the segments kernel needs training's segments= argument
        use_lm_attention(engine.model, "sdpa")
        engine.save_model(processor, target)
        engine.close()
    log.close()
    if ctx.is_main:
        records = read_log(os.path.join(out, "log.jsonl"))
        with open(os.path.join(out, "loss.svg"), "w", encoding="utf-8") as f:
            f.write(loss_curve_svg(records, f"{config.name}: training loss"))
    return os.path.join(out, "final")


def _stage_start(config: TrainConfig, si: int, resuming: bool, starts_from_saved: bool) -> tuple | None:
    """(model, processor) stage ``si`` loads to start from; None: the one in memory (the previous stage's)."""
    stage = config.stages[si]
    if si > 0 and stage.start == "model" and not resuming:
        return load_start(config.model)
    if stage.start not in ("previous", "model") and not resuming:
        return load_dir(stage.start)
    if si > 0 and stage.start == "previous" and starts_from_saved:
        # the model the previous stage saved: its weights gathered from the last engine, and (resuming)
        # the weights the checkpoint's engine did not train
        return load_dir(os.path.join(config.out_dir, "stages", config.stages[si - 1].name))
    return None


def _finished_stage(ckpt: Checkpoint, config: TrainConfig, si: int, seed: int) -> dict:
    """A stage finished before ``ckpt``: its data.json entry as the checkpoint recorded it."""
    name = config.stages[si].name
    recorded = ckpt.meta.get("data", {}).get(name)
    if recorded is not None:
        return recorded
    # a checkpoint written before it recorded the stages' data: plan the stage again to count its steps
    return plan_stage(config, si, seed).report(config.stages[si].global_batch_size)


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

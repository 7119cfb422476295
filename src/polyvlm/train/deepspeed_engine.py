"""DeepSpeed ZeRO-2 / ZeRO-3 through DeepSpeed's own engine: config, initialise, checkpoints, gathered weights.

A stage's ``deepspeed_config`` JSON (``configs/train/deepspeed/zero{2,3}.json``) says the ZeRO stage
and its knobs; the ``"auto"`` values are filled from the stage: micro-batch, accumulation steps,
global batch, clipping and bf16. The optimiser stays ours: torch's AdamW with one group per trained
module, and its warmup + cosine LambdaLR, handed to ``deepspeed.initialize`` as client optimiser and
scheduler (DeepSpeed's own CPU Adam needs a compiled op; torch's needs none). The engine then owns
accumulation (``backward`` per micro-batch, ``step`` applies at the boundary), gradient averaging
over ranks, clipping and the scheduler step. Checkpoints go through ``engine.save_checkpoint`` (each
rank writes its partition of weights and optimiser state) with polyvlm's data position and RNG
beside them. The final model is gathered (ZeRO-3: layer by layer onto rank 0) and saved with
``save_pretrained``. ``DeepSpeedStageEngine`` is this behind the stage runner's interface
(train/stage_engine.py); each stage gets a fresh one around the model the previous stage saved.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext

import torch
from torch import nn

from polyvlm.core.errors import RecipeError
from polyvlm.train.checkpoint import save_gathered_model_dir
from polyvlm.train.config import StageConfig
from polyvlm.train.deepspeed_import import import_deepspeed
from polyvlm.train.distributed import DistContext
from polyvlm.train.optim import build_optimizer, build_scheduler
from polyvlm.train.stage_engine import EngineSetup, StageEngine

CHECKPOINT_TAG = "deepspeed"
"""the sub-directory of a polyvlm checkpoint that holds DeepSpeed's files"""


def stage_config(stage: StageConfig, accumulation: int, world: int, bf16: bool) -> dict:
    """The stage's DeepSpeed JSON with its "auto" values filled from the stage."""
    if not stage.deepspeed_config:
        raise RecipeError(f"stage {stage.name!r}: strategy 'deepspeed' needs deepspeed_config (a ZeRO JSON)")
    try:
        with open(stage.deepspeed_config, encoding="utf-8") as f:
            cfg = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise RecipeError(f"stage {stage.name!r}: deepspeed_config {stage.deepspeed_config}: {e}") from None
    filled = {
        "train_micro_batch_size_per_gpu": stage.micro_batch_size,
        "gradient_accumulation_steps": accumulation,
        "train_batch_size": stage.micro_batch_size * accumulation * world,
        "gradient_clipping": stage.grad_clip or 0.0,
    }
    for key, value in filled.items():
        if cfg.get(key, "auto") not in ("auto", value):
            raise RecipeError(
                f'{stage.deepspeed_config}: {key} is {cfg[key]}, the stage says {value}; set it to "auto"'
            )
        cfg[key] = value
    cfg["bf16"] = {**cfg.get("bf16", {}), "enabled": bf16}
    cfg.setdefault("fp16", {"enabled": False})
    cfg["zero_allow_untested_optimizer"] = True  # torch's AdamW as the client optimiser
    cfg.setdefault("steps_per_print", 10**9)  # polyvlm logs every step itself
    return cfg


def initialize(model: torch.nn.Module, optimizer, scheduler, config: dict):
    """DeepSpeed's engine around the model, our AdamW and our schedule."""
    deepspeed = import_deepspeed()
    engine, _, _, _ = deepspeed.initialize(
        model=model, optimizer=optimizer, lr_scheduler=scheduler, config=config
    )
    return engine


def zero_stage(engine) -> int:
    """The engine's ZeRO stage (0-3)."""
    return engine.zero_optimization_stage()


def save_engine_state(engine, directory: str) -> None:
    """Every rank writes its partition of weights, optimiser and scheduler state under ``directory``."""
    engine.save_checkpoint(directory, tag=CHECKPOINT_TAG, save_latest=False)


def load_engine_state(engine, directory: str) -> None:
    """Weights, optimiser and scheduler state written by save_engine_state, into the engine."""
    path, _ = engine.load_checkpoint(directory, tag=CHECKPOINT_TAG)
    if path is None:
        raise RecipeError(f"{directory}: no DeepSpeed checkpoint '{CHECKPOINT_TAG}' in it")


def full_state_dict(engine, ctx: DistContext) -> dict | None:
    """The whole model's weights on rank 0 (ZeRO-3: gathered layer by layer; a collective on every rank)."""
    if zero_stage(engine) == 3:
        # the gathering HF accelerate also uses for ZeRO-3 saving; weights in their training dtype
        return engine._zero3_consolidated_16bit_state_dict()
    return {k: v.detach().cpu() for k, v in engine.module.state_dict().items()} if ctx.is_main else None


class DeepSpeedStageEngine(StageEngine):
    """A stage on DeepSpeed's engine: it accumulates, averages, clips and steps our AdamW and schedule."""

    starts_from_saved_model = True  # one engine per stage (its own ZeRO stage) around a plain model

    def __init__(self, model: nn.Module, setup: EngineSetup, checkpoint: str | None = None) -> None:
        stage, ctx = setup.stage, setup.ctx
        self.model, self.ctx = model, ctx
        self.optimizer = build_optimizer(model, stage)
        scheduler = build_scheduler(self.optimizer, stage, setup.steps)
        config = stage_config(stage, setup.accumulation, ctx.world, setup.bf16)
        self.module = initialize(model, self.optimizer, scheduler, config)
        if checkpoint is not None:
            load_engine_state(self.module, checkpoint)  # weights too: they live in the engine's partitions

    @property
    def shards_vision(self) -> bool:
        """ZeRO-3 over several ranks partitions every parameter, the vision tower's too."""
        return self.ctx.world > 1 and zero_stage(self.module) == 3

    def micro_step(self, last: bool) -> AbstractContextManager:
        """Nothing to enter: the engine counts micro-steps itself and casts to bf16 by its JSON."""
        return nullcontext()

    def backward(self, loss: torch.Tensor, last: bool) -> None:
        """The engine's backward; before the boundary, its step only counts the micro-step."""
        # the loss is already divided by the global batch's supervised tokens: no 1/accumulation
        self.module.backward(loss, scale_wrt_gas=False)
        if not last:
            self.module.step()

    def step(self) -> float:
        """The boundary: reduce, clip, AdamW, our schedule; the engine's global gradient norm."""
        self.module.step()
        return float(self.module.get_global_grad_norm() or 0.0)

    def save_state(self, directory: str) -> None:
        """Every rank writes its partition (save_engine_state)."""
        save_engine_state(self.module, directory)

    def save_model(self, processor, target: str) -> None:
        """The weights gathered from the partitions (a collective) into an unsharded copy, saved by rank 0."""
        save_gathered_model_dir(
            self.model, full_state_dict(self.module, self.ctx), processor, target, self.ctx
        )

    def close(self) -> None:
        """Free the engine's partitions and hooks: the next stage builds its own."""
        self.module.destroy()

"""Train configs: a YAML list of stages, validated like recipes (unknown keys are errors with file:line).

A config names where the model starts, then one entry per stage: which modules train with which
learning rate, warmup and weight decay, the optimiser and schedule, the batch and its accumulation,
how long, and the data mixture. Stage 2 starts from stage 1's weights unless it says otherwise.
"""

from __future__ import annotations

import os
from typing import Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from polyvlm.core.errors import RecipeError
from polyvlm.core.recipe import load_yaml_with_lines
from polyvlm.synth.categories import CATEGORIES

MODULES = ("vision", "connector", "lm")
FORMATS = (
    "pairs_webdataset",
    "llava_json",
    "messages_jsonl",
    "mmc4_jsonl",
    "text_jsonl",
    "text_parquet",
    "hf",
)


UNCATEGORIZED = "uncategorized"
"""the category_rates key of records that carry no category"""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModuleOptim(_Strict):
    """How one module trains: peak learning rate, warmup share of the stage, weight decay."""

    lr: float = Field(gt=0)
    warmup_ratio: float = Field(0.0, ge=0, le=1)
    weight_decay: float = Field(0.0, ge=0)


class TrainModules(_Strict):
    """The modules that train in a stage; a module left out (or null) is frozen."""

    vision: ModuleOptim | None = None
    connector: ModuleOptim | None = None
    lm: ModuleOptim | None = None

    @model_validator(mode="after")
    def _some(self) -> TrainModules:
        if not any(getattr(self, m) for m in MODULES):
            raise ValueError("a stage must train at least one of: vision, connector, lm")
        return self

    def trained(self) -> dict[str, ModuleOptim]:
        """The trained modules by name, in MODULES order."""
        return {m: getattr(self, m) for m in MODULES if getattr(self, m) is not None}


class Optimizer(_Strict):
    """AdamW's betas and eps (the learning rates are per module)."""

    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = Field(1e-8, gt=0)


class Schedule(_Strict):
    """Each module's warmup, then cosine decay, or flat then decay (WSD), to ``min_lr_ratio`` of its peak."""

    kind: Literal["cosine", "wsd"] = "cosine"
    min_lr_ratio: float = Field(0.0, ge=0, le=1)
    decay_ratio: float = Field(0.1, gt=0, le=1)
    """wsd: the share of the stage's steps in the final decay (rounded up)"""
    decay_shape: Literal["linear", "1-sqrt"] = "linear"
    """wsd: the decay's shape from the peak to the floor (see train/optim.py)"""


class SourceConfig(_Strict):
    """One data source of a mixture."""

    name: str
    format: Literal[FORMATS]  # type: ignore[valid-type]
    path: str
    rate: float = Field(1.0, gt=0)
    text_only: bool | None = None
    """counts toward text_only_share (default: true for text_jsonl / text_parquet)"""
    image_root: str | None = None
    """directory that relative image paths are taken from (default: the source file's directory)"""
    split: str = "train"
    """the split of an HF dataset"""
    limit: int | None = Field(None, gt=0)
    """read at most this many samples"""
    epochs: float | None = Field(None, gt=0)
    """passes over this source in the stage (then every source of the stage gives epochs, none a rate,
    and the stage neither steps nor epochs: its length follows from the sources' sizes)"""
    category_rates: dict[str, float] | None = None
    """weights of the source's Jagle categories (its records' ``category`` key; "uncategorized" for those
    without one): a category's share of the source's draws is its samples x its weight, normalised (a
    category left out weighs 1, 0 never draws it); the source's share of the mixture stays its rate"""

    @model_validator(mode="after")
    def _categories(self) -> SourceConfig:
        if self.category_rates is None:
            return self
        known = (*CATEGORIES, UNCATEGORIZED)
        if unknown := sorted(set(self.category_rates) - set(known)):
            raise ValueError(f"category_rates: unknown categories {unknown} (known: {', '.join(known)})")
        if negative := sorted(k for k, v in self.category_rates.items() if not v >= 0):
            raise ValueError(f"category_rates: weights must be >= 0, got {negative}")
        if self.epochs is not None:
            raise ValueError(
                "category_rates weigh draws; a source counted in epochs draws each sample once per pass"
            )
        return self

    @property
    def is_text_only(self) -> bool:
        """Whether this source counts toward the mixture's text-only share."""
        return self.text_only if self.text_only is not None else self.format in ("text_jsonl", "text_parquet")


class DataConfig(_Strict):
    """The stage's mixture and how samples become sequences."""

    sources: list[SourceConfig] = Field(min_length=1)
    text_only_share: float | None = Field(None, ge=0, lt=1)
    """share of samples drawn from the text-only sources (default: by their rates)"""
    single_source_fraction: float = Field(0.0, ge=0, le=1)
    """the first this share of the stage's steps draw each global batch from one source"""
    max_length: int = Field(2048, gt=0)
    """longest sample in tokens (a longer one is dropped and counted); also the packed row length"""
    packing: bool = True
    max_tiles: int | None = Field(None, gt=0)
    """tile budget per image (default: the processor's)"""
    num_workers: int = Field(0, ge=0)
    """dataloader worker processes that read records by position, decode, tile and tokenise"""
    shuffle_window: int = Field(1 << 16, gt=0)
    """samples of a source shuffled together (windows in a shuffled order, then within each window)"""

    @model_validator(mode="after")
    def _passes(self) -> DataConfig:
        given = [s.epochs is not None for s in self.sources]
        if any(given) and not all(given):
            raise ValueError("give epochs for every source of the stage, or for none")
        if all(given) and (rated := [s.name for s in self.sources if "rate" in s.model_fields_set]):
            raise ValueError(
                f"sources counted in epochs take their rates from their sizes; drop rate of {rated}"
            )
        if all(given) and self.text_only_share is not None:
            raise ValueError(
                "sources counted in epochs take their shares from their sizes; drop text_only_share"
            )
        return self

    @property
    def per_source_epochs(self) -> bool:
        """Whether the sources give their own epochs (the stage's length follows from them)."""
        return self.sources[0].epochs is not None


class StageConfig(_Strict):
    """One training stage."""

    name: str
    start: Literal["previous", "model"] | str = "previous"
    """'model' (the config's model), 'previous' (the stage before; 'model' for the first) or a model dir"""
    train: TrainModules
    optimizer: Optimizer = Optimizer()
    schedule: Schedule = Schedule()
    grad_clip: float | None = Field(1.0, gt=0)
    global_batch_size: int = Field(gt=0)
    """samples per optimiser step, over all ranks and accumulation steps"""
    micro_batch_size: int = Field(1, gt=0)
    """samples per forward pass on one rank"""
    steps: int | None = Field(None, gt=0)
    epochs: float | None = Field(None, gt=0)
    seed: int | None = None
    deepspeed_config: str | None = None
    """DeepSpeed JSON used when distributed.strategy is deepspeed (e.g. ZeRO-2 for one stage, ZeRO-3 for the next)"""
    data: DataConfig

    @model_validator(mode="after")
    def _length(self) -> StageConfig:
        if self.data.per_source_epochs:
            if self.steps is not None or self.epochs is not None:
                raise ValueError("the sources give epochs: the stage's length follows; drop steps / epochs")
        elif (self.steps is None) == (self.epochs is None):
            raise ValueError("give exactly one of steps or epochs")
        if self.global_batch_size % self.micro_batch_size:
            raise ValueError(
                f"global_batch_size {self.global_batch_size} is not a multiple of micro_batch_size {self.micro_batch_size}"
            )
        return self


class ModelStart(_Strict):
    """Where the first stage's model comes from: exactly one of path, from_parts, tiny."""

    path: str | None = None
    from_parts: dict[str, str] | None = None
    """{vision: hub name or dir, text: hub name or dir, connector: attention_pool | mlp}"""
    tiny: dict[str, int | str] | None = None
    """a tiny random model (tests, demos): {seed: 0, connector: attention_pool}"""

    @model_validator(mode="after")
    def _one(self) -> ModelStart:
        given = [k for k in ("path", "from_parts", "tiny") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of path, from_parts, tiny (got {given or 'none'})")
        if self.from_parts is not None and not {"vision", "text"} <= set(self.from_parts):
            raise ValueError("from_parts needs vision and text")
        return self


class Distributed(_Strict):
    """How several processes share the work (launched by torchrun or accelerate launch)."""

    strategy: Literal["auto", "none", "ddp", "fsdp2", "deepspeed"] = "auto"
    """auto: ddp when WORLD_SIZE > 1, else one process"""
    backend: Literal["auto", "gloo", "nccl"] = "auto"


class TrainConfig(_Strict):
    """A whole training run."""

    name: str
    output_dir: str | None = None
    seed: int = 0
    model: ModelStart
    stages: list[StageConfig] = Field(min_length=1)
    precision: Literal["fp32", "bf16"] = "fp32"
    gradient_checkpointing: bool = False
    attention: Literal["segments", "sdpa", "eager", "flash_attention_2"] = "segments"
    """LM attention in training: segments (one causal sdpa per packed sample, no mask), sdpa / eager (a
    block-diagonal 4D mask over the whole row) or flash_attention_2 (varlen from position ids, GPU)"""
    distributed: Distributed = Distributed()
    checkpoint_every: int = Field(100, gt=0)
    keep_checkpoints: int = Field(2, gt=0)
    log_every: int = Field(1, gt=0)
    max_failed_share: float = Field(0.01, ge=0, le=1)
    """the run fails (non-zero exit, top reasons) when more than this share of a source's records, or of
    a stage's samples, cannot train: unreadable records, missing images, empty turns, too long"""
    _where: str = PrivateAttr("config")
    _lines: dict = PrivateAttr(default_factory=dict)

    def line_of(self, *path: str | int) -> str:
        """``file:line`` of a key of the config (the nearest enclosing key that has a line)."""
        return f"{self._where}:{_line_of(tuple(path), self._lines)}"

    @model_validator(mode="after")
    def _stages(self) -> TrainConfig:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique, got {names}")
        return self

    @property
    def out_dir(self) -> str:
        """Where the run writes: output_dir, else runs/train-<name>."""
        return self.output_dir or os.path.join("runs", f"train-{self.name}")


def parse_train_config(text: str, where: str, base_dir: str | None = None) -> TrainConfig:
    """Validate train-config text; raises RecipeError naming the file and line of the first problem.

    With ``base_dir`` (the config file's folder) relative input paths are resolved from it.
    """
    data, lines = load_yaml_with_lines(text, where)
    if not isinstance(data, dict):
        raise RecipeError(
            f"{where}:1: a train config is a mapping with keys: {', '.join(TrainConfig.model_fields)}"
        )
    try:
        config = TrainConfig(**data)
    except ValidationError as e:
        _raise_at_line(e, where, lines)
    if base_dir is not None:
        config = resolve_input_paths(config, base_dir)
    config._where, config._lines = where, lines
    return config


def _raise_at_line(e: ValidationError, where: str, lines: dict[tuple, int]) -> NoReturn:
    """Raise the validation error as a RecipeError at the line of its key."""
    errors = e.errors()
    # a misspelt key also makes the right one "missing": name the misspelling, it is the cause
    err = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
    loc = tuple(err["loc"])
    line = _line_of(loc, lines)
    where_in = ".".join(str(p) for p in loc) or "config"
    if err["type"] == "extra_forbidden":
        model = _model_at(loc[:-1])
        valid = ", ".join(model.model_fields) if model else "see docs/train.md"
        msg = f"unknown key {loc[-1]!r} in {'.'.join(str(p) for p in loc[:-1]) or 'the config'}; valid keys: {valid}"
    elif err["type"] == "missing":
        msg = f"{where_in}: {err['msg']}"
    else:
        msg = f"{where_in}: {err['msg']} (got {err.get('input')!r})"
    raise RecipeError(f"{where}:{line}: {msg}") from None


def _line_of(loc: tuple, lines: dict[tuple, int]) -> int:
    # pydantic adds validator names (e.g. 'function-after[...]') to paths: drop what YAML never had.
    path = tuple(p for p in loc if not (isinstance(p, str) and "[" in p))
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return 1


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that the path ``loc`` of a config points into (for listing its valid keys)."""
    model: type[BaseModel] | None = TrainConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model


def _inner_model(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def load_train_config(path: str) -> TrainConfig:
    """Read and validate a train config file; its relative input paths are taken from the file's folder."""
    if not os.path.isfile(path):
        raise RecipeError(f"{path}: no such train config")
    with open(path, encoding="utf-8") as f:
        return parse_train_config(f.read(), path, os.path.dirname(os.path.abspath(path)))


def _local(path: str, base_dir: str) -> str:
    """A path relative to ``base_dir`` made absolute; absolute paths and URLs as they are."""
    if os.path.isabs(path) or "://" in path:
        return path
    return os.path.normpath(os.path.join(base_dir, path))


def _local_or_hub(name: str, base_dir: str) -> str:
    """A model or dataset given by path or hub name: the path when it exists beside the config, else the name."""
    local = _local(name, base_dir)
    return local if os.path.exists(local) else name


def resolve_input_paths(config: TrainConfig, base_dir: str) -> TrainConfig:
    """The config with every input path (data, image roots, models, DeepSpeed JSON) taken from ``base_dir``.

    ``output_dir`` is not an input: like a recipe's, it is taken from the working directory.
    """
    model = config.model
    if model.path is not None:
        model = model.model_copy(update={"path": _local(model.path, base_dir)})
    if model.from_parts is not None:
        parts = {
            k: v if k == "connector" else _local_or_hub(v, base_dir) for k, v in model.from_parts.items()
        }
        model = model.model_copy(update={"from_parts": parts})
    stages = []
    for stage in config.stages:
        sources = []
        for src in stage.data.sources:
            path = _local_or_hub(src.path, base_dir) if src.format == "hf" else _local(src.path, base_dir)
            root = None if src.image_root is None else _local(src.image_root, base_dir)
            sources.append(src.model_copy(update={"path": path, "image_root": root}))
        update: dict = {"data": stage.data.model_copy(update={"sources": sources})}
        if stage.start not in ("previous", "model"):
            update["start"] = _local(stage.start, base_dir)
        if stage.deepspeed_config is not None:
            update["deepspeed_config"] = _local(stage.deepspeed_config, base_dir)
        stages.append(stage.model_copy(update=update))
    return config.model_copy(update={"model": model, "stages": stages})

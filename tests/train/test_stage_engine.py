"""The stage runner's one interface over its engines: torch's (one process, DDP, FSDP2) and DeepSpeed's.

Both engines implement every method of ``StageEngine``; the torch engine's step is the plain AdamW step
the loop took before the interface (clipping, the optimiser, the schedule, zeroed gradients); a stage run
through either engine gives the same losses, gradient norms and learning rates; a checkpoint the torch
engine wrote starts an engine where the first left off.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from pathlib import Path

import pytest
import torch

from polyvlm.train.config import parse_train_config
from polyvlm.train.deepspeed_engine import DeepSpeedStageEngine
from polyvlm.train.distributed import DistContext
from polyvlm.train.model_start import load_start
from polyvlm.train.optim import build_optimizer, build_scheduler, freeze_for_stage
from polyvlm.train.run_log import RunLog
from polyvlm.train.stage_engine import EngineSetup, StageEngine
from polyvlm.train.stage_plan import plan_stage
from polyvlm.train.stage_runner import StageRun, engine_class, run_stage
from polyvlm.train.torch_engine import TorchStageEngine

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
name: engines
model: {{tiny: {{seed: 0}}}}
output_dir: {out}
stages:
  - name: only
    train:
      connector: {{lr: 1.0e-3, warmup_ratio: 0.3}}
      lm: {{lr: 2.0e-3}}
    grad_clip: 0.5
    global_batch_size: 4
    micro_batch_size: 2
    steps: 3
    deepspeed_config: {root}/configs/train/deepspeed/zero2.json
    data:
      max_tiles: 1
      sources:
        - {{name: conv, format: llava_json, path: {root}/examples/data/train/conversations.json, image_root: {root}/examples/data/photos}}
        - {{name: text, format: text_jsonl, path: {root}/examples/data/train/text.jsonl}}
"""


def config_for(out: Path):
    return parse_train_config(CONFIG.format(out=out, root=ROOT), str(out) + ".yaml")


def run_one_stage(out: Path, strategy: str) -> list[dict]:
    """The config's stage through the stage runner with ``strategy``'s engine, in this process; its log lines."""
    config = config_for(out)
    os.makedirs(out)
    model, processor = load_start(config.model)
    log = RunLog(str(out), 0, True)
    run = StageRun(config, 0, 0, plan_stage(config, 0, 0), DistContext(strategy=strategy), log, 0, {}, False)
    engine = run_stage(run, model, processor, None)
    engine.close()
    log.close()
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("cls", [TorchStageEngine, DeepSpeedStageEngine])
def test_both_engines_implement_the_whole_interface(cls):
    assert issubclass(cls, StageEngine) and not cls.__abstractmethods__


def test_the_strategy_picks_the_engine():
    assert engine_class("deepspeed") is DeepSpeedStageEngine
    assert all(engine_class(s) is TorchStageEngine for s in ("none", "ddp", "fsdp2"))
    # DeepSpeed's engines are one per stage around the model the previous stage saved; torch's model carries on
    assert DeepSpeedStageEngine.starts_from_saved_model and not TorchStageEngine.starts_from_saved_model


def tiny_setup(tmp_path: Path):
    config = config_for(tmp_path / "out")
    model, _ = load_start(config.model)
    freeze_for_stage(model, config.stages[0])
    return model, EngineSetup(config.stages[0], DistContext(), steps=3, accumulation=2, bf16=False)


def batch_loss(model: torch.nn.Module, seed: int) -> torch.Tensor:
    """A made-up loss touching the connector and the LM (their parameters' sum of squares, weighed at random)."""
    g = torch.Generator().manual_seed(seed)
    trained = [p for p in model.parameters() if p.requires_grad]
    return sum(torch.rand((), generator=g) * (p**2).sum() for p in trained)


def test_the_torch_engine_steps_as_the_loop_did_before_it(tmp_path):
    model, setup = tiny_setup(tmp_path)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    reference = load_start(config_for(tmp_path / "out").model)[0]
    freeze_for_stage(reference, setup.stage)
    optimizer = build_optimizer(reference, setup.stage)
    scheduler = build_scheduler(optimizer, setup.stage, setup.steps)
    params = [p for p in reference.parameters() if p.requires_grad]
    engine = TorchStageEngine(model, setup)
    for step in range(setup.steps):
        for k in range(setup.accumulation):
            with engine.micro_step(last=k == setup.accumulation - 1):
                engine.backward(batch_loss(engine.module, 10 * step + k), last=k == setup.accumulation - 1)
            batch_loss(reference, 10 * step + k).backward()
        assert engine.learning_rates() == {g["name"]: g["lr"] for g in optimizer.param_groups}
        norm = engine.step()
        # the loop before the interface, written out
        expected = float(torch.nn.utils.clip_grad_norm_(params, setup.stage.grad_clip))
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        assert norm == pytest.approx(expected, rel=1e-6)
        assert all(p.grad is None for p in model.parameters())
    for (name, a), b in zip(model.state_dict().items(), reference.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7, msg=lambda m, n=name: f"{n}: {m}")
    assert any(not torch.allclose(v, start[k]) for k, v in model.state_dict().items())  # it trained


@pytest.fixture
def one_process_group():
    """A gloo process group of one, for DDP and FSDP2 in this process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    yield
    torch.distributed.destroy_process_group()


@pytest.mark.parametrize("strategy", ["none", "ddp", "fsdp2"])
def test_a_torch_checkpoint_starts_an_engine_where_it_left_off(tmp_path, strategy, request):
    if strategy != "none":
        request.getfixturevalue("one_process_group")
    model, setup = tiny_setup(tmp_path)
    setup = dataclasses.replace(setup, ctx=DistContext(strategy=strategy))
    engine = TorchStageEngine(model, setup)
    for step in range(2):
        with engine.micro_step(last=True):
            engine.backward(batch_loss(engine.module, step), last=True)
        engine.step()
    directory = tmp_path / "ckpt"
    directory.mkdir()
    engine.save_state(str(directory))
    assert sorted(os.listdir(directory)) == ["model.pt", "optimizer.pt", "scheduler.pt"]

    fresh, _ = tiny_setup(tmp_path)  # the run's starting weights: the checkpoint must replace them
    resumed = TorchStageEngine(fresh, setup, str(directory))
    assert resumed.learning_rates() == engine.learning_rates()
    assert_same_weights(fresh, model)
    for e in (engine, resumed):  # one more step each: the optimiser's moments came back too
        with e.micro_step(last=True):
            e.backward(batch_loss(e.module, 7), last=True)
        e.step()
    assert_same_weights(fresh, model)


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        x, y = (t.full_tensor() if hasattr(t, "full_tensor") else t for t in (x, y))  # FSDP2's DTensors
        torch.testing.assert_close(x, y, rtol=1e-6, atol=1e-8, msg=lambda m, n=name: f"{n}: {m}")


@pytest.mark.slow
def test_one_stage_through_each_engine_gives_the_same_losses(tmp_path, monkeypatch):
    deepspeed = pytest.importorskip("deepspeed")
    torch_lines = run_one_stage(tmp_path / "torch", "none")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "RANK": "0",
        "WORLD_SIZE": "1",
        "LOCAL_RANK": "0",
    }
    for k, v in {**env, "DS_ACCELERATOR": "cpu"}.items():
        monkeypatch.setenv(k, v)
    deepspeed.init_distributed(dist_backend="gloo")  # DeepSpeed's engine needs a process group, even of one
    try:
        ds_lines = run_one_stage(tmp_path / "deepspeed", "deepspeed")
    finally:
        torch.distributed.destroy_process_group()
    assert [r["step"] for r in ds_lines] == [r["step"] for r in torch_lines] == [1, 2, 3]
    for a, b in zip(torch_lines, ds_lines, strict=True):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-6)
        assert b["grad_norm"] == pytest.approx(a["grad_norm"], rel=1e-4)  # summed in another order
        assert b["lr"] == pytest.approx(a["lr"], rel=1e-9)
    assert len({r["loss"] for r in torch_lines}) == 3  # it trained: every step's loss differs

"""A run resumed in a later stage skips the stages it finished without planning them again (no index of
their sources is opened): the checkpoint records their lengths, so the global steps, data.json and the
losses that follow are the uninterrupted run's. A checkpoint written before it recorded them still
resumes, by planning those stages again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import polyvlm.train.loop as loop
from polyvlm.core.errors import RecipeError
from polyvlm.train.config import parse_train_config

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
name: finished
model: {{tiny: {{seed: 0}}}}
output_dir: {out}
checkpoint_every: 2
keep_checkpoints: 10
stages:
  - name: first
    train:
      lm: {{lr: 1.0e-3}}
    global_batch_size: 2
    micro_batch_size: 2
    steps: 2
    data:
      sources:
        - {{name: text, format: text_jsonl, path: {root}/examples/data/train/text.jsonl}}
  - name: second
    train:
      lm: {{lr: 2.0e-3}}
    global_batch_size: 2
    micro_batch_size: 1
    steps: 3
    data:
      sources:
        - {{name: text, format: text_jsonl, path: {root}/examples/data/train/text.jsonl}}
"""


def run(out: Path, monkeypatch) -> list[int]:
    """Train (resuming from out's latest checkpoint); the stages it planned."""
    planned = []

    def plan_stage(config, si, seed):
        planned.append(si)
        return real(config, si, seed)

    real = loop.plan_stage
    monkeypatch.setattr(loop, "plan_stage", plan_stage)
    text = CONFIG.format(out=out, root=ROOT)
    loop.train(parse_train_config(text, "finished.yaml"), text, progress=False)
    monkeypatch.setattr(loop, "plan_stage", real)
    return planned


def log(out: Path) -> list[dict]:
    lines = map(json.loads, (out / "log.jsonl").read_text().splitlines())
    return [{k: v for k, v in r.items() if k != "tokens_per_s"} for r in lines]


def resume_from_stage1_step2(whole: Path, out: Path) -> None:
    """What a kill after the second stage's step-2 checkpoint leaves."""
    shutil.copytree(whole, out)
    shutil.rmtree(out / "final")
    shutil.rmtree(out / "checkpoints" / "stage1-step0000003")


def test_a_resumed_run_does_not_plan_the_stages_it_finished(tmp_path, monkeypatch):
    whole = tmp_path / "whole"
    assert run(whole, monkeypatch) == [0, 1]
    meta = json.loads((whole / "checkpoints" / "stage1-step0000002" / "meta.json").read_text())
    assert meta["data"] == json.loads((whole / "data.json").read_text())

    resumed = tmp_path / "resumed"
    resume_from_stage1_step2(whole, resumed)
    (resumed / "data.json").unlink()  # written again, the finished stage's entry from the checkpoint
    assert run(resumed, monkeypatch) == [1]
    assert [r["global_step"] for r in log(resumed)] == [1, 2, 3, 4, 5]
    assert log(resumed)[:4] == log(whole)[:4]
    assert log(resumed)[4]["loss"] == pytest.approx(log(whole)[4]["loss"], rel=1e-5)
    assert json.loads((resumed / "data.json").read_text()) == json.loads((whole / "data.json").read_text())

    older = tmp_path / "older"  # its checkpoint as written before the data was recorded in it
    resume_from_stage1_step2(whole, older)
    path = older / "checkpoints" / "stage1-step0000002" / "meta.json"
    path.write_text(json.dumps({k: v for k, v in json.loads(path.read_text()).items() if k != "data"}))
    assert run(older, monkeypatch) == [0, 1]
    assert [r["global_step"] for r in log(older)] == [1, 2, 3, 4, 5]
    assert log(older)[4]["loss"] == pytest.approx(log(whole)[4]["loss"], rel=1e-5)


def test_a_resumed_run_opens_no_data_of_the_stages_it_finished(tmp_path, monkeypatch):
    first = tmp_path / "first.jsonl"  # the first stage's data, gone by the time the run resumes
    shutil.copy(ROOT / "examples/data/train/text.jsonl", first)
    text = CONFIG.format(out=tmp_path / "run", root=ROOT).replace(
        f"{ROOT}/examples/data/train/text.jsonl", str(first), 1
    )
    loop.train(parse_train_config(text, "finished.yaml"), text, progress=False)
    shutil.rmtree(tmp_path / "run" / "final")
    shutil.rmtree(tmp_path / "run" / "checkpoints" / "stage1-step0000003")
    first.unlink()
    loop.train(parse_train_config(text, "finished.yaml"), text, progress=False)  # resumes in stage 2
    assert (tmp_path / "run" / "final").is_dir()
    shutil.rmtree(tmp_path / "run")  # a fresh run still opens every stage's data first
    with pytest.raises(RecipeError, match=r"finished.yaml:\d+: stage 'first'"):
        loop.train(parse_train_config(text, "finished.yaml"), text, progress=False)

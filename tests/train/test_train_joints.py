"""Training's joints fail loudly: missing images, failing samples, empty turns, bad paths, config changes.

Each case ran "successfully" before (exit 0, a "final" model trained on nothing, reasons only in
errors.jsonl); each must now stop with a non-zero exit that names the reason and the place.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from train_fixtures import noise_png

from polyvlm.cli import cli
from polyvlm.train.config import parse_train_config
from polyvlm.train.resume_check import resume_conflicts

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}

CONFIG = """\
name: joints
model: {{tiny: {{seed: 0}}}}
output_dir: {out}
stages:
  - name: only
    train:
      connector: {{lr: 1.0e-3}}
    global_batch_size: 2
    micro_batch_size: 2
    steps: 2
    data:
      max_tiles: 1
      sources:
        - {{name: conv, format: llava_json, path: {data}}}
"""

LATER_STAGE = """\
  - name: later
    train:
      lm: {{lr: 1.0e-3}}
    global_batch_size: 2
    steps: 1
    data:
      sources:
        - {{name: text, format: text_jsonl, path: {path}}}
"""


def conversation(i: int, image: str | None, answer: str = "猫です。") -> dict:
    rec = {
        "id": f"c{i}",
        "conversations": [{"from": "human", "value": "何？"}, {"from": "gpt", "value": answer}],
    }
    if image:
        rec["image"] = image
    return rec


def train(tmp_path: Path, records: list[dict], *args: str) -> subprocess.CompletedProcess:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "c.json").write_text(json.dumps(records, ensure_ascii=False))
    config = tmp_path / "cfg" / "joints.yaml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(CONFIG.format(out=tmp_path / "run", data="../data/c.json"))
    return subprocess.run(
        [sys.executable, "-m", "polyvlm.cli", "train", str(config), "--quiet", *args],
        env=ENV, cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_samples_whose_images_are_missing_fail_the_run_before_any_step(tmp_path):
    got = train(tmp_path, [conversation(i, f"photos/{i}.jpg") for i in range(6)])
    assert got.returncode != 0
    assert "image file missing" in got.stderr and str(tmp_path / "data" / "photos" / "0.jpg") in got.stderr
    assert "joints.yaml:" in got.stderr  # the config line of the source
    assert not (tmp_path / "run" / "final").exists()


def test_samples_failing_in_training_stop_the_stage_and_save_no_model(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "broken.png").write_bytes(b"\x89PNG not really")  # exists, cannot be decoded
    got = train(tmp_path, [conversation(i, "broken.png") for i in range(4)])
    assert got.returncode != 0
    assert "4 of 4 samples failed" in got.stderr and "unreadable sample" in got.stderr, got.stderr[-2000:]
    assert not (tmp_path / "run" / "final").exists()


def test_an_empty_assistant_turn_is_an_error_naming_the_sample(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ok.png").write_bytes(noise_png())
    records = [conversation(i, "ok.png") for i in range(5)] + [conversation(9, "ok.png", answer="  \n")]
    got = train(tmp_path, records)
    assert got.returncode != 0
    assert "empty assistant turn" in got.stderr and "sample c9" in got.stderr and "c.json[5]" in got.stderr


def test_a_small_failure_share_may_be_allowed(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ok.png").write_bytes(noise_png())
    records = [conversation(i, "ok.png") for i in range(5)] + [conversation(9, "ok.png", answer="")]
    got = train(tmp_path, records, "--max-failed-share", "0.5")
    assert got.returncode == 0, got.stderr[-2000:]
    assert (tmp_path / "run" / "final" / "config.json").is_file()


def test_validate_opens_every_stage_and_names_the_config_line(tmp_path):
    config = tmp_path / "two.yaml"
    (tmp_path / "c.json").write_text(json.dumps([conversation(0, None)]))
    config.write_text(
        CONFIG.format(out=tmp_path / "run", data="c.json") + LATER_STAGE.format(path="no/such/*.jsonl")
    )
    result = CliRunner().invoke(cli, ["train", str(config), "--validate"])
    assert result.exit_code != 0
    assert f"{config}:22: stage 'later'" in result.output and "no/such/*.jsonl" in result.output


def test_config_paths_resolve_from_the_config_folder_from_any_working_directory(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ok.png").write_bytes(noise_png())
    (tmp_path / "data" / "c.json").write_text(json.dumps([conversation(0, "ok.png")]))
    (tmp_path / "cfg").mkdir()
    config = tmp_path / "cfg" / "x.yaml"
    config.write_text(CONFIG.format(out="run", data="../data/c.json"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(cli, ["train", str(config), "--validate"])
    assert result.exit_code == 0, result.output
    assert "first 1 records: 1 usable" in result.output


def test_resume_compares_parsed_configs_not_text():
    base = CONFIG.format(out="run", data="/d/c.json") + LATER_STAGE.format(path="/d/t.jsonl")
    saved = parse_train_config(base, "a.yaml").model_dump(mode="json")

    def conflicts(text: str, stage: int = 0) -> list[str]:
        return resume_conflicts(saved, parse_train_config(text, "a.yaml").model_dump(mode="json"), stage)

    assert conflicts("# a comment\n" + base.replace("steps: 2", "steps: 2   # same")) == []
    assert conflicts(base.replace("/d/t.jsonl", "/d/fixed.jsonl")) == []  # a later stage's data
    assert conflicts(base.replace("name: joints", "name: joints\nlog_every: 5")) == []
    assert conflicts(base.replace("connector: {lr: 1.0e-3}", "connector: {lr: 2.0e-3}")) == [
        "stages.0.train.connector.lr"
    ]
    assert conflicts(base.replace("/d/c.json", "/d/other.json")) == ["stages.0.data.sources.0.path"]
    assert conflicts(base.replace("/d/t.jsonl", "/d/fixed.jsonl"), stage=1) == [
        "stages.1.data.sources.0.path"
    ]

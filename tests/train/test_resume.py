"""Kill -9 in the middle of a run, run the same command again: the losses after the resume point,
the final weights and the samples seen equal those of the uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
name: resume
model: {{tiny: {{seed: 0}}}}
output_dir: {out}
checkpoint_every: 4
keep_checkpoints: 5
stages:
  - name: first
    train:
      connector: {{lr: 1.0e-3, warmup_ratio: 0.2}}
      lm: {{lr: 2.0e-3, warmup_ratio: 0.2}}
    global_batch_size: 4
    micro_batch_size: 2
    steps: 7
    data:
      max_tiles: 1
      sources:
        - {{name: conv, format: llava_json, path: {root}/examples/data/train/conversations.json, image_root: {root}/examples/data/photos}}
        - {{name: text, format: text_jsonl, path: {root}/examples/data/train/text.jsonl}}
  - name: second
    train:
      lm: {{lr: 1.0e-3}}
    global_batch_size: 4
    micro_batch_size: 4
    steps: 3
    data:
      sources:
        - {{name: text, format: text_jsonl, path: {root}/examples/data/train/text.jsonl}}
"""


def write_config(tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(CONFIG.format(out=tmp_path / name, root=ROOT))
    return str(path)


def command(config: str) -> list[str]:
    return [sys.executable, "-m", "polyvlm.cli", "train", config, "--quiet"]


ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def log(out: Path) -> dict[tuple[int, int], float]:
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return {(r["stage"], r["step"]): r["loss"] for r in rows}


@pytest.mark.slow
def test_kill_and_resume_equals_the_uninterrupted_run(tmp_path):
    whole = write_config(tmp_path, "whole")
    subprocess.run(command(whole), check=True, env=ENV, cwd=ROOT, capture_output=True, timeout=600)

    killed = write_config(tmp_path, "killed")
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        command(killed), env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    while not (out / "checkpoints" / "stage0-step0000004").is_dir():
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "final").exists()  # the kill came before the end

    subprocess.run(command(killed), check=True, env=ENV, cwd=ROOT, capture_output=True, timeout=600)
    expected, got = log(tmp_path / "whole"), log(out)
    assert list(got) == list(expected) and len(got) == 10  # every step once, in order
    for position, loss in expected.items():
        assert got[position] == pytest.approx(loss, rel=1e-5, abs=1e-6), position
    assert (out / "samples-rank0.jsonl").read_text() == (
        tmp_path / "whole" / "samples-rank0.jsonl"
    ).read_text()
    a = load_file(tmp_path / "whole" / "final" / "model.safetensors")
    b = load_file(out / "final" / "model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=1e-5, atol=1e-6)
    meta = json.loads(
        next((out / "checkpoints").glob("stage0-step0000004")).joinpath("meta.json").read_text()
    )
    assert (
        meta["mixture"]["step"] == 4
        and sum(meta["mixture"]["cursors"]) == 16
        and meta["packer"] == {"carried": []}
    )

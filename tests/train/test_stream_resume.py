"""Streaming resume: a run continued from its step-k checkpoint trains the uninterrupted run's losses on
its samples, and reads only the records of steps after k — none before, and no source is scanned again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from stream_fixtures import read_log, write_pairs, write_text_parquet

from polyvlm.train.config import parse_train_config
from polyvlm.train.loop import train

CONFIG = """\
name: stream
model: {{tiny: {{seed: 0}}}}
output_dir: {out}
checkpoint_every: 3
keep_checkpoints: 5
stages:
  - name: only
    train:
      connector: {{lr: 1.0e-3}}
      lm: {{lr: 2.0e-3}}
    global_batch_size: 4
    micro_batch_size: 2
    steps: 6
    data:
      max_tiles: 1
      num_workers: 2
      shuffle_window: 7
      sources:
        - {{name: pairs, format: pairs_webdataset, path: "{pairs}"}}
        - {{name: text, format: text_parquet, path: "{text}"}}
"""


def run(tmp_path: Path, out: Path, log: Path, monkeypatch) -> None:
    monkeypatch.setenv("POLYVLM_READ_LOG", str(log))
    text = CONFIG.format(out=out, pairs=tmp_path / "p" / "pairs-*.tar", text=tmp_path / "t" / "text.parquet")
    train(parse_train_config(text, "stream.yaml"), text, progress=False)


def losses(out: Path) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in map(json.loads, (out / "log.jsonl").read_text().splitlines())}


def test_resume_continues_the_same_order_reading_nothing_before_it(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYVLM_INDEX_CACHE", str(tmp_path / "cache"))
    write_pairs(tmp_path / "p", shards=2, per_shard=10)
    write_text_parquet(tmp_path / "t", rows=40, row_group=6)
    whole = tmp_path / "whole"
    run(tmp_path, whole, tmp_path / "whole.log", monkeypatch)

    resumed = tmp_path / "resumed"  # the state a kill after step 3's checkpoint leaves
    shutil.copytree(whole, resumed)
    shutil.rmtree(resumed / "final")
    shutil.rmtree(resumed / "checkpoints" / "stage0-step0000006")
    run(tmp_path, resumed, tmp_path / "resumed.log", monkeypatch)

    expected, got = losses(whole), losses(resumed)
    assert list(got) == [1, 2, 3, 4, 5, 6]
    for step, loss in expected.items():
        assert got[step] == pytest.approx(loss, rel=1e-5, abs=1e-6), step
    assert (resumed / "samples-rank0.jsonl").read_text() == (whole / "samples-rank0.jsonl").read_text()

    first = read_log(tmp_path / "whole.log")
    again = read_log(tmp_path / "resumed.log")
    assert sorted(e for e in first if e[0] == "index") == [("index", "pairs", 20), ("index", "text", 40)]
    assert not [e for e in again if e[0] == "index"]  # the cached index: nothing scanned
    reads_whole = [(s, k) for kind, s, k in first if kind == "read"]
    reads_again = [(s, k) for kind, s, k in again if kind == "read"]
    assert len(reads_whole) == 24 and len(set(reads_whole)) == 24  # 6 steps x 4, no sample twice
    assert len(reads_again) == 12  # steps 4-6 only
    assert set(reads_again) < set(reads_whole)
    samples = [json.loads(line)["ids"] for line in (whole / "samples-rank0.jsonl").read_text().splitlines()]
    assert len(samples) == 6 and sum(map(len, samples)) == 24

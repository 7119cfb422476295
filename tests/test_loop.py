"""`make loop` end to end: five recipes -> two training stages -> evaluation -> leaderboard, every joint counted.

The loop runs as a user runs it (examples/loop.py, real `polyvlm` commands) in a workspace of its own;
the instruct recipe's model calls and the judge go to a real OpenAI-compatible server on 127.0.0.1 that
answers in each generator's format (the embedded SmolLM2 would take minutes and writes no usable
Japanese), the model trained and evaluated is the tiny random PolyVLM.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fake_openai_server
from synth_answers import scripted_answer_or_verdict

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def loop_module():
    spec = importlib.util.spec_from_file_location("loop", ROOT / "examples" / "loop.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def workspace(tmp_path: Path) -> Path:
    """The repository's recipes, configs and bundled data, with a runs/ of its own."""
    if not list((ROOT / "examples/data/ja-crawl").glob("*.warc.gz")):  # what `make crawls` builds
        pages = [str(p) for p in (ROOT / "examples/data/ja-pages").iterdir()]
        pages += [str(p) for p in (ROOT / "examples/data/html").glob("*.jp.*")]
        pages.append(str(ROOT / "examples/data/html/readability__hukumusume__source.html"))
        subprocess.run(
            [sys.executable, "examples/build_crawl.py", "--pages", *pages, "--out", "examples/data/ja-crawl", "--parts", "2"],
            cwd=ROOT, check=True, env=ENV, capture_output=True,
        )  # fmt: skip
    ws = tmp_path / "ws"
    ws.mkdir()
    for name in ("examples", "recipes", "configs"):
        (ws / name).symlink_to(ROOT / name)
    return ws


@pytest.mark.slow
def test_the_loop_runs_and_every_joint_adds_up(tmp_path, monkeypatch):
    ws = workspace(tmp_path)
    monkeypatch.setattr(fake_openai_server, "answer_text", scripted_answer_or_verdict)
    with fake_openai_server.FakeOpenAIServer() as server:
        done = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "loop.py"), "--endpoint", server.url,
             "--endpoint-model", "fake-model", "--judge", f"openai:fake-model@{server.url}"],
            cwd=ws, env=ENV, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    joints = json.loads((ws / "runs/loop/joints.json").read_text())
    assert joints["broken"] == []
    counts = "\n".join(joints["counts"])
    data = json.loads((ws / "runs/train-loop/data.json").read_text())
    pairs = json.loads((ws / "runs/ja-pairs/stats.json").read_text())["written"]["write_webdataset"]
    assert pairs > 0 and data["align"]["sources"]["pairs"]["read"] == pairs
    assert f"recipe wrote {pairs}" in counts
    instruct = json.loads((ws / "runs/ja-instruct/stats.json").read_text())["written"]["write_llava_json"]
    assert instruct > 0 and data["instruct"]["sources"]["instruct"]["read"] == instruct
    assert "eval custom: 5 items, 5 answered, 0 not answered" in counts
    assert "eval custom/llm_judge_vila: 5 scored" in counts  # the judge's verdicts parsed
    assert (ws / "runs/loop/leaderboard.html").is_file() and (
        ws / "runs/train-loop/final/config.json"
    ).is_file()

    # the joint check itself catches a loss: a recipe that wrote one record more than training read
    loop = loop_module()
    monkeypatch.chdir(ws)
    caught = loop.Joints()
    written = {os.path.join("runs", "ja-pairs", "webdataset"): pairs + 1}
    loop.check_training(caught, written, "runs/train-loop")
    assert any("recipe wrote" in b and "training read" in b for b in caught.broken)

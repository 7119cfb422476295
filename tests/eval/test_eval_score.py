"""`polyvlm eval score` on answers made elsewhere: the bundled Heron-Bench answer files (shared data) judged
through the real local server, and a file of answers to another task refused clearly."""

from __future__ import annotations

import json
from pathlib import Path

import harness_scorers  # noqa: F401 -- registers harness_judge
import pytest
from click.testing import CliRunner

from fake_openai_server import FakeOpenAIServer
from polyvlm.cli import cli

HERON = Path("/work/shared/data/vlm_bench/japanese-heron-bench")


@pytest.mark.skipif(not HERON.is_dir(), reason="the shared Heron-Bench files are not on this machine")
def test_score_heron_answer_files_with_a_judge(tmp_path):
    with FakeOpenAIServer() as server:
        args = ["eval", "score", "--task", "japanese-heron-bench", "--data", str(HERON), "--predictions",
                str(HERON / "claude3_0404_ja.jsonl"), "--metrics", "harness_judge", "--judge",
                f"openai:judge@{server.url}", "-o", str(tmp_path)]  # fmt: skip
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert server.requests == 103  # every answer judged once (no images are needed to judge)
    out = tmp_path / "japanese-heron-bench/claude3_0404_ja"
    ev = json.loads((out / "evaluation.jsonl").read_text())["harness_judge"]
    assert ev["details"]["n"] == 103 and set(ev["details"]["by_category"]) == {"conv", "detail", "complex"}
    preds = [json.loads(x) for x in (out / "prediction.jsonl").read_text().splitlines()]
    answers = {
        json.loads(x)["question_id"]: json.loads(x)["text"] for x in (HERON / "claude3_0404_ja.jsonl").open()
    }
    assert all(p["text"] == answers[int(p["question_id"])] for p in preds)
    assert json.loads((out / "manifest.json").read_text())["model"]["backend"] == "predictions"


def test_score_refuses_answers_to_another_task(tmp_path, fixtures):
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"question_id": "nope", "text": "x"}) + "\n")
    args = ["eval", "score", "--task", "ai2d", "--data", str(fixtures / "ai2d"), "--predictions", str(preds),
            "--metrics", "harness_judge", "-o", str(tmp_path / "out")]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0 and "none of its question ids" in result.output

"""`polyvlm eval score` on answers made elsewhere: the bundled Heron-Bench answer files judged with the real
Heron judge through the real local server, and a file of answers to another task refused clearly."""

from __future__ import annotations

import json
from pathlib import Path

import harness_scorers  # noqa: F401 -- registers harness_judge
import pytest
from click.testing import CliRunner

from fake_openai_server import FakeOpenAIServer
from polyvlm.cli import cli

HERON = Path(__file__).resolve().parents[2] / "examples/data/heron-bench"


def test_score_heron_answer_files_with_the_heron_judge(tmp_path):
    # the judge gives the reference 8 and the answer 6 every time: every category is 100 * 6 / 8 = 75
    verdict = '{"score_gpt": 8, "score": 6}'
    with FakeOpenAIServer(reply=lambda prompt: verdict) as server:
        args = ["eval", "score", "--task", "japanese-heron-bench", "--data", str(HERON), "--predictions",
                str(HERON / "claude3_0404_ja.jsonl"), "--metrics", "heron_judge", "--judge",
                f"openai:judge@{server.url}", "-o", str(tmp_path)]  # fmt: skip
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert server.requests == 103  # every answer judged once (no images are needed to judge)
        prompts = [b["messages"][-1]["content"] for b in server.bodies]
    out = tmp_path / "japanese-heron-bench/claude3_0404_ja"
    ev = json.loads((out / "evaluation.jsonl").read_text())["heron_judge"]
    assert ev["overall_score"] == pytest.approx(75.0, abs=1e-6)
    assert ev["details"]["by_category"] == pytest.approx({"conv": 75.0, "detail": 75.0, "complex": 75.0})
    assert ev["details"]["judge_prompt"] == "heron_json" and ev["details"]["judge_failures"] == 0
    # the judge saw the image's context and the GPT-4 reference beside each answer
    context = json.loads((HERON / "context_ja.jsonl").open().readline())["caption"]
    assert any(context[:20] in p for p in prompts)
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

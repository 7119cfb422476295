"""`polyvlm eval suite en-docs` end to end against the real local server on the fixtures: each task is
scored by its official rule, a task without data is skipped with the path looked for, and the headline is
the mean of the scored tasks only."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fake_openai_server import FakeOpenAIServer
from polyvlm.cli import cli
from polyvlm.eval.suites import SUITES

# the model's answers by question (anything else gets the server's default "answer ..." text)
ANSWERS = {
    "What is the total amount?": "$1,234.00",
    "Who signed the letter?": "John Smith",
    "What brand is the bottle?": "Coca-Cola",
    "How many taxis": "There are 2 taxis.",
    "How many boats are in": "five",
}


def reply(prompt: str) -> str | None:
    return next((a for q, a in ANSWERS.items() if q in prompt), None)


def test_suite_en_docs_end_to_end(tmp_path, fixtures):
    data = tmp_path / "data"
    data.mkdir()
    names = [t.task for t in SUITES["en-docs"].tasks]
    for name in names:
        if name != "okvqa":  # one task without data: skipped, not a zero
            (data / name).symlink_to(fixtures / name)
    out = tmp_path / "out"
    with FakeOpenAIServer(reply=reply) as server:
        args = ["eval", "suite", "en-docs", "--model", f"openai:vlm@{server.url}", "--data-dir", str(data),
                "--quiet", "-o", str(out)]  # fmt: skip
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "suite-en-docs.json").read_text())
    rows = {r["task"]: r for r in summary["rows"]}
    assert rows["okvqa"]["skipped"] == f"no data at {data / 'okvqa'}" and rows["okvqa"]["value"] is None
    scored = {t: r for t, r in rows.items() if not r["skipped"]}
    assert set(scored) == set(names) - {"okvqa"}
    for task, row in scored.items():  # the task's own headline, as written in its evaluation.jsonl
        evaluation = json.loads((out / task / "vlm" / "evaluation.jsonl").read_text())
        assert row["value"] == pytest.approx(evaluation[row["metric"]]["overall_score"], abs=1e-9), task
    assert rows["docvqa"]["value"] == pytest.approx(100.0)  # both answers exact
    assert rows["textvqa"]["value"] == pytest.approx(50.0)  # "coca cola" right (1), default text wrong (0)
    assert rows["countbenchqa"]["value"] == pytest.approx(100.0)  # "2" and "five" read as counts
    assert summary["headline"] == pytest.approx(
        sum(r["value"] for r in scored.values()) / len(scored), abs=1e-9
    )
    assert summary["tasks_scored"] == 8 and summary["tasks_total"] == 9
    assert "okvqa / vqa_accuracy: skipped (no data at" in result.output

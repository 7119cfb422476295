"""`polyvlm eval suite ja` end to end against the real local server (model and judge) on the fixtures: every
task with data is run and scored, a task without data is listed as skipped with the path looked for, and
the headline is the mean of the scored tasks' headline metrics only."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fake_openai_server import FakeOpenAIServer
from polyvlm.cli import cli
from polyvlm.eval.registry import load_builtin_tasks
from polyvlm.eval.suites import SUITES, SuiteRow, get_suite, suite_headline


def judge_reply(prompt: str) -> str | None:
    """The judge's verdicts by prompt kind (the model's own questions get the server's default answer)."""
    if "[correct_answer]" in prompt:
        return "extracted_final_answer: x\nreasoning: same\ncorrect: yes"
    if "score_gpt" in prompt:
        return '{"score_gpt": 8, "score": 6}'
    if '"Score: X"' in prompt:
        return "Score: 4"
    if "Assistant 2" in prompt:
        return "8 4\nThe second is shorter."
    return None


def test_suite_ja_end_to_end(tmp_path, fixtures):
    with FakeOpenAIServer(reply=judge_reply) as server:
        args = ["eval", "suite", "ja", "--model", f"openai:vlm@{server.url}", "--judge", f"openai:judge@{server.url}",
                "--data-dir", str(fixtures), "--quiet", "-o", str(tmp_path)]  # fmt: skip
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        summary = json.loads((tmp_path / "suite-ja.json").read_text())
        evaluations = {t: json.loads(p.read_text()) for t in load_builtin_tasks()
                       if (p := tmp_path / t / "vlm" / "evaluation.jsonl").is_file()}  # fmt: skip
        # again without a judge: answers come from the log, the judged tasks are skipped, not zeros
        asked = len(server.bodies)
        again = CliRunner().invoke(cli, [a for a in args if "judge" not in a])
        assert again.exit_code == 0, again.output
        assert len(server.bodies) == asked  # nothing asked twice
    rows = {r["task"]: r for r in summary["rows"]}
    assert (
        rows["llava-bench-in-the-wild-ja"]["skipped"]
        == f"no data at {fixtures / 'llava-bench-in-the-wild-ja'}"
    )
    scored = {t: r for t, r in rows.items() if not r["skipped"]}
    assert set(scored) == {t.task for t in SUITES["ja"].tasks} - {"llava-bench-in-the-wild-ja"}
    for task, row in scored.items():  # each row is the task's own headline as written in evaluation.jsonl
        assert row["value"] == pytest.approx(evaluations[task][row["metric"]]["overall_score"], abs=1e-9), (
            task
        )
    assert rows["jgraphqa-refined"]["value"] == pytest.approx(100.0)  # every verdict "yes"
    assert rows["japanese-heron-bench"]["value"] == pytest.approx(75.0)  # 6 / 8 in every category
    assert summary["headline"] == pytest.approx(
        sum(r["value"] for r in scored.values()) / len(scored), abs=1e-9
    )
    assert summary["tasks_scored"] == len(scored) == summary["tasks_total"] - 1
    assert "headline:" in result.output and "skipped (no data at" in result.output
    # several images per item reached the model (JDocQA pages, JA-Multi-Image-VQA)
    preds = [json.loads(x) for x in (tmp_path / "jdocqa/vlm/prediction.jsonl").read_text().splitlines()]
    assert len(preds) == 4 and all("error" not in p for p in preds)
    without_judge = json.loads((tmp_path / "suite-ja.json").read_text())
    skipped = {r["task"] for r in without_judge["rows"] if r["skipped"]}
    assert {"japanese-heron-bench", "jgraphqa-refined", "business-slide-vqa"} <= skipped
    kept = [r["value"] for r in without_judge["rows"] if not r["skipped"]]
    assert without_judge["headline"] == pytest.approx(sum(kept) / len(kept), abs=1e-9)


def test_headline_leaves_skipped_tasks_out_and_suites_name_real_tasks():
    rows = [SuiteRow("a", "m", 80.0), SuiteRow("b", "m", 40.0), SuiteRow("c", "m", skipped="no data at x")]
    assert suite_headline(rows) == pytest.approx(60.0)
    assert suite_headline([SuiteRow("c", "m", skipped="no data")]) is None
    tasks = load_builtin_tasks()
    for suite in SUITES.values():
        for entry in suite.tasks:
            assert entry.task in tasks or entry.task.rsplit("-", 1)[0] in tasks, entry.task
    with pytest.raises(KeyError, match="unknown suite 'nope'; suites: "):
        get_suite("nope")


def test_unknown_suite_is_a_message_not_a_traceback(tmp_path):
    result = CliRunner().invoke(
        cli, ["eval", "suite", "nope", "--model", "openai:x@http://127.0.0.1:9", "-o", str(tmp_path)]
    )
    assert result.exit_code != 0 and "unknown suite 'nope'" in result.output

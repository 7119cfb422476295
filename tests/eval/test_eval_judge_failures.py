"""A run whose judge failed too often exits non-zero with the counts and the top reasons (outputs still
written, failures never scored as 0); --judge-timeout reaches the judge client. Real local server."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from fake_openai_server import FakeOpenAIServer
from polyvlm.cli import cli

TASK = "llava-bench-in-the-wild-ja"


def score(fixtures: Path, tmp_path: Path, texts: list[str], url: str, *extra: str):
    preds = tmp_path / "model.jsonl"
    preds.write_text("".join(json.dumps({"question_id": i, "text": t}) + "\n" for i, t in enumerate(texts)))
    args = ["eval", "score", "--task", TASK, "--data", str(fixtures / "llava-bench-in-the-wild-heron/ja"),
            "--predictions", str(preds), "--metrics", "llava_judge", "--judge", f"openai:judge@{url}",
            "--judge-retries", "0", "-o", str(tmp_path / "out"), *extra]  # fmt: skip
    return CliRunner().invoke(cli, args)


def evaluation(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "out" / TASK / "model/evaluation.jsonl").read_text())["llava_judge"]


def test_every_judge_call_failing_exits_non_zero_on_heron_bench(tmp_path, fixtures):
    # the case: every judge call failed, and the run said "n/a" and exited 0
    preds = tmp_path / "m.jsonl"
    preds.write_text("".join(json.dumps({"question_id": i, "text": "x"}) + "\n" for i in (0, 1, 2, 3, 4, 9)))
    with FakeOpenAIServer(mode="500") as server:
        args = ["eval", "score", "--task", "japanese-heron-bench", "--data", str(fixtures / "japanese-heron-bench"),
                "--predictions", str(preds), "--judge", f"openai:judge@{server.url}", "--judge-retries", "0",
                "-o", str(tmp_path / "out")]  # fmt: skip
        result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0 and "failed on 6 of 6 items" in result.output, result.output


def test_every_judge_call_failing_exits_non_zero_with_the_reasons(tmp_path, fixtures):
    with FakeOpenAIServer(mode="500") as server:
        result = score(fixtures, tmp_path, ["a", "b", "c", "d"], server.url, "--max-judge-failure-share", "1")
    assert result.exit_code != 0
    assert "failed on 4 of 4 items" in result.output and "judge_call_failed: http_500 ×4" in result.output
    ev = evaluation(tmp_path)  # written before failing: the failures are counted, never scored
    assert ev["overall_score"] is None and ev["details"]["judge_failures"] == 4


def test_more_than_the_allowed_share_of_failures_exits_non_zero(tmp_path, fixtures):
    # one unreadable verdict of four: 25 % is over the default 10 %, under an allowed 30 %
    def reply(prompt: str) -> str:
        return "no scores here" if "answer-0" in prompt else "8 6"

    texts = [f"answer-{i}" for i in range(4)]
    with FakeOpenAIServer(reply=reply) as server:
        refused = score(fixtures, tmp_path, texts, server.url)
        assert refused.exit_code != 0 and "failed on 1 of 4 items (25%" in refused.output
        assert "judge_unparsable ×1" in refused.output
        allowed = score(fixtures, tmp_path, texts, server.url, "--max-judge-failure-share", "0.3")
    assert allowed.exit_code == 0, allowed.output
    ev = evaluation(tmp_path)
    assert abs(ev["overall_score"] - 75.0) < 1e-6 and ev["details"]["judge_failures"] == 1


def test_judge_timeout_reaches_the_judge_client(tmp_path, fixtures):
    # the judge stalls 5 s on the answer tagged [[stall]]: with --judge-timeout 0.5 that call times out
    texts = ["[[stall]] slow", "b", "c", "d"]
    with FakeOpenAIServer(reply=lambda prompt: "8 6", stall_s=5.0) as server:
        result = score(fixtures, tmp_path, texts, server.url, "--judge-timeout", "0.5")
    assert result.exit_code != 0
    assert "judge_call_failed: timeout ×1" in result.output


def test_judging_shows_a_progress_bar_unless_quiet(tmp_path, fixtures):
    with FakeOpenAIServer(reply=lambda prompt: "8 6") as server:
        shown = score(fixtures, tmp_path, ["a", "b", "c", "d"], server.url)
        quiet = score(fixtures, tmp_path, ["a", "b", "c", "d"], server.url, "--quiet")
    assert shown.exit_code == 0 and quiet.exit_code == 0, shown.output + quiet.output
    assert f"{TASK} / llava_judge: judging" in shown.output and "4/4" in shown.output
    assert "llava_judge: judging" not in quiet.output

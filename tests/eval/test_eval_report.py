"""The leaderboard: every model and run, CIs, judge failures shown, per-category tables, plots, and every
model-written text escaped (HTML and Markdown)."""

from __future__ import annotations

import json

import harness_scorers  # noqa: F401 -- registers harness_contains and harness_judge
from click.testing import CliRunner

from fake_openai_server import FakeOpenAIServer
from polyvlm.cli import cli

QUESTIONS = [
    {"id": "x1", "image": "images/lake.jpg", "question": "<script>alert('pwned')</script> What?", "reference": "answer", "category": "odd"},
    {"id": "x2", "image": "images/lake.jpg", "question": "Where | is it?", "reference": "zebra", "category": "plain"},
    {"id": "x3", "image": "images/lake.jpg", "question": "[judgefail] Count?", "reference": "answer", "category": "plain"},
]  # fmt: skip


def test_report_across_models_escapes_and_shows_failures(tmp_path, fixtures):
    (tmp_path / "images").mkdir()
    (tmp_path / "images/lake.jpg").write_bytes((fixtures / "custom/images/lake.jpg").read_bytes())
    data = tmp_path / "q.jsonl"
    data.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    runner = CliRunner()
    with FakeOpenAIServer() as server:
        for model, run in (("model-a", "run1"), ("model-b", "run1"), ("model-a", "run2")):
            args = ["eval", "run", "--model", f"openai:{model}@{server.url}", "--tasks", "custom", "--data",
                    f"custom={data}", "--metrics", "harness_contains,harness_judge", "--judge",
                    f"openai:judge@{server.url}", "--judge-retries", "1", "--max-judge-failure-share", "1", "--quiet", "-o",
                    str(tmp_path / run)]  # fmt: skip
            result = runner.invoke(cli, args)
            assert result.exit_code == 0, result.output
    html_path = tmp_path / "board.html"
    result = runner.invoke(
        cli, ["eval", "report", str(tmp_path / "run1"), str(tmp_path / "run2"), "-o", str(html_path)]
    )
    assert result.exit_code == 0, result.output
    html = html_path.read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html
    # model-a ran the task in run1 and run2: one row, the newest run shown and the other named
    assert html.count("<tr><th>model-a</th>") == 1 and "<tr><th>model-b</th>" in html
    assert "run run2, newest of 2 runs" in html
    assert "judge failures" in html and "<svg" in html and "by category" in html
    ev = json.loads((tmp_path / "run2/custom/model-a/evaluation.jsonl").read_text())["harness_contains"]
    assert f"[{ev['details']['ci_low']:.2f}, {ev['details']['ci_high']:.2f}]" in html
    md = html_path.with_suffix(".md").read_text()
    assert "| model-b |" in md and "⚠1 judge failures" in md and "(scale 1-5)" in md
    assert "| odd |" in md and "| plain |" in md


def test_report_of_nothing_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["eval", "report", str(tmp_path), "-o", str(tmp_path / "x.html")])
    assert result.exit_code != 0 and "no DIR/<task>/<model>/evaluation.jsonl" in result.output

"""`polyvlm eval score` on answer files as Heron publishes them, against Heron's LLaVA-Bench-in-the-wild ja
layout, judged through the real local server: the answers come from the right field, answers to no question
are reported on the console, and files that cannot be read are refused with the file (and line)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from fake_openai_server import FakeOpenAIServer
from polyvlm.cli import cli

TASK = "llava-bench-in-the-wild-ja"


def heron_ja(fixtures: Path) -> Path:
    return fixtures / "llava-bench-in-the-wild-heron/ja"


def answers(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def score(fixtures: Path, predictions: Path, out: Path, url: str | None, *extra: str):
    args = ["eval", "score", "--task", TASK, "--data", str(heron_ja(fixtures)), "--predictions", str(predictions),
            "--metrics", "llava_judge", "--judge-retries", "0", "-o", str(out), *extra]  # fmt: skip
    if url:
        args += ["--judge", f"openai:judge@{url}"]
    return CliRunner().invoke(cli, args)


def test_text_ja_answers_are_scored_from_that_field(tmp_path, fixtures):
    # Heron's gpt4v_0314_ja.jsonl layout: the answer in text_ja, no text; one answer to a question not in the task
    rows = [{"question_id": i, "image": "001.jpg", "prompt": "?", "answer_id": "", "model_id": "m", "metadata": {},
             "text_ja": f"回答{i}です。"} for i in (0, 1, 2, 3, 77)]  # fmt: skip
    preds = answers(tmp_path / "gpt4v_ja.jsonl", rows)
    with FakeOpenAIServer(reply=lambda prompt: "8 6\nreasons") as server:
        result = score(fixtures, preds, tmp_path / "out", server.url)
        prompts = [b["messages"][-1]["content"] for b in server.bodies]
    assert result.exit_code == 0, result.output
    assert "field 'text_ja'" in result.output
    assert "1 answers match no question" in result.output and "77" in result.output
    assert len(prompts) == 4 and all(any(f"回答{i}です。" in p for p in prompts) for i in range(4))
    # the judge read Heron's Japanese question, GPT-4's Japanese reference and the Japanese caption
    assert any(
        "男性は何をしていますか" in p and "シャツにアイロン" in p and "黄色いタクシーの後ろ" in p
        for p in prompts
    )
    out = tmp_path / "out" / TASK / "gpt4v_ja"
    written = {r["question_id"]: r["text"] for r in map(json.loads, (out / "prediction.jsonl").open())}
    assert written == {str(i): f"回答{i}です。" for i in range(4)}
    manifest = json.loads((out / "manifest.json").read_text())
    assert (
        manifest["model"]["answer_field"] == "text_ja" and manifest["model"]["predictions_not_in_task"] == 1
    )


def test_answer_field_names_the_field(tmp_path, fixtures):
    rows = [{"question_id": i, "text": "x", "prediction": f"p{i}"} for i in range(4)]
    preds = answers(tmp_path / "two.jsonl", rows)
    refused = score(fixtures, preds, tmp_path / "a", None)
    assert refused.exit_code != 0 and "--answer-field" in refused.output and "Traceback" not in refused.output
    with FakeOpenAIServer(reply=lambda prompt: "8 4") as server:
        chosen = score(fixtures, preds, tmp_path / "b", server.url, "--answer-field", "prediction")
        prompts = [b["messages"][-1]["content"] for b in server.bodies]
    assert chosen.exit_code == 0, chosen.output
    assert all(any(f"p{i}" in p for p in prompts) for i in range(4))


def test_a_file_with_no_known_answer_field_is_refused(tmp_path, fixtures):
    preds = answers(tmp_path / "odd.jsonl", [{"question_id": 0, "reply_body": "x"}])
    result = score(fixtures, preds, tmp_path / "out", None)
    assert result.exit_code != 0
    assert (
        str(preds) in result.output and "no answer field" in result.output and "reply_body" in result.output
    )


def test_a_malformed_answer_line_is_an_error_with_file_and_line(tmp_path, fixtures):
    preds = tmp_path / "bad.jsonl"
    preds.write_text('{"question_id": 0, "text": "a"}\n{"question_id": 1, "text": "b"\n', encoding="utf-8")
    result = score(fixtures, preds, tmp_path / "out", None)
    assert result.exit_code != 0 and f"{preds}:2:" in result.output


def test_text_ja_answers_to_heron_bench_are_not_scored_as_empty(tmp_path, fixtures):
    # the case of the issue: Heron's answers in text_ja were read as 6 empty answers, judged, exit 0
    preds = answers(
        tmp_path / "m.jsonl", [{"question_id": i, "text_ja": f"答え{i}"} for i in (0, 1, 2, 3, 4, 9)]
    )
    with FakeOpenAIServer(reply=lambda prompt: '{"score_gpt": 8, "score": 6}') as server:
        args = ["eval", "score", "--task", "japanese-heron-bench", "--data", str(fixtures / "japanese-heron-bench"),
                "--predictions", str(preds), "--metrics", "heron_judge", "--judge", f"openai:judge@{server.url}",
                "-o", str(tmp_path / "out")]  # fmt: skip
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in (tmp_path / "out/japanese-heron-bench/m/prediction.jsonl").open()]
    assert {r["question_id"]: r["text"] for r in rows} == {str(i): f"答え{i}" for i in (0, 1, 2, 3, 4, 9)}

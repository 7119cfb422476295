"""Heron-Bench's judge-relative score: the formula by hand, both prompts, failures, the real questions."""

import json
from pathlib import Path

import pytest
from judge_server import judge_client, judge_server
from scorer_cases import item, pred

from polyvlm.eval.scorers.heron_judge import HeronJudge
from polyvlm.eval.scorers.judge_replies import parse_first_line_pair, parse_score_json

HERON = Path(__file__).resolve().parents[3] / "examples" / "data" / "heron-bench"  # bundled, Apache-2.0


def heron_item(qid: str, category: str) -> object:
    meta = {"context": f"context of {qid}", "reference_answer": f"reference answer {qid}"}
    return item(qid, f"reference answer {qid}", category=category, meta=meta, prompt=f"question {qid}")


def json_verdict(reference: int, model: int) -> str:
    return f'<<{{"score_gpt": {reference}, "score": {model}}}>>'


def test_parsers_are_strict():
    assert parse_score_json('{"score_gpt": 8, "score": 6}') == (8, 6)
    assert parse_score_json('```json\n{"score_gpt": 9, "score": 3}\n```') == (9, 3)
    assert parse_score_json('{"score_gpt": 8}') is None
    assert parse_score_json('{"score_gpt": 8.5, "score": 6}') is None
    assert parse_score_json('{"score_gpt": "8", "score": 6}') is None
    assert parse_score_json('{"score_gpt": 11, "score": 6}') is None
    assert parse_score_json("8 6") is None
    assert parse_first_line_pair("8 6\nAssistant 1 is better") == (8.0, 6.0)
    assert parse_first_line_pair("8, 6") == (8.0, 6.0)
    assert parse_first_line_pair("Assistant 1: 8\nAssistant 2: 6") is None
    assert parse_first_line_pair("8 6 7") is None
    assert parse_first_line_pair("0 6") is None


def test_formula_by_hand_with_the_json_prompt(tmp_path):
    # (reference, model) scores per item
    cases = {
        "conv": [(8, 6), (10, 5)],  # 100 · 5.5 / 9 = 61.11
        "detail": [(5, 5), (5, 4)],  # 100 · 4.5 / 5 = 90
        "complex": [(10, 8), (6, 8)],  # 100 · 8 / 8 = 100
    }
    items, preds = [], []
    for category, pairs in cases.items():
        for k, (ref, model) in enumerate(pairs):
            qid = f"{category}{k}"
            items.append(heron_item(qid, category))
            preds.append(pred(qid, f"answer {qid} {json_verdict(ref, model)}"))
    with judge_server() as server:
        scorer = HeronJudge()
        scores = scorer.score(items, preds, judge_client(server, tmp_path))
        # requests arrive in any order (concurrency): take the one about conv0
        prompt = next(c for b in server.bodies if "context of conv0" in (c := b["messages"][-1]["content"]))
    result = scorer.aggregate(items, scores)
    tol = 1e-6
    assert result.by_category == pytest.approx(
        {"conv": 100 * 5.5 / 9, "detail": 90.0, "complex": 100.0}, abs=tol
    )
    assert result.overall == pytest.approx((100 * 5.5 / 9 + 90.0 + 100.0) / 3, abs=tol)
    assert result.details["conv_reference"] == pytest.approx(9.0, abs=tol)
    assert result.details["judge_prompt"] == "heron_json" and result.details["categories_missing"] == []
    assert result.n == 6 and result.excluded == {}
    assert "context of conv0" in prompt and "question conv0" in prompt and "reference answer conv0" in prompt
    assert '"score_gpt"' in prompt


def test_the_pairwise_prompt_is_recorded_as_another_prompt(tmp_path):
    items = [heron_item("c1", "conv"), heron_item("c2", "conv")]
    preds = [pred("c1", "<<8 6\nAssistant 2 misses a detail.>>"), pred("c2", "<<10 5>>")]
    with judge_server() as server:
        pairwise, default = HeronJudge(prompt="pairwise"), HeronJudge()
        scores = pairwise.score(items, preds, judge_client(server, tmp_path))
        # requests arrive in any order (concurrency): take the one about c1
        body = next(b for b in server.bodies if "reference answer c1" in b["messages"][-1]["content"])
    result = pairwise.aggregate(items, scores)
    assert result.overall == pytest.approx(100 * 5.5 / 9, abs=1e-6)
    assert result.details["categories_missing"] == ["detail", "complex"]
    assert result.details["judge_prompt"] != default.judge_details()["judge_prompt"]
    assert result.details["judge_prompt_sha256"] != default.judge_details()["judge_prompt_sha256"]
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    assert "precise assistant" in system
    assert "[Assistant 1]\nreference answer c1" in user and "Sentences are given in Japanese" in user
    assert "does not answer directly, or says the wrong thing, give it a low score" in user  # Heron's line
    assert list(pairwise.prompt_sha256s()) == ["heron_pairwise", "llava_rules"]


def test_failures_are_excluded_not_zero(tmp_path):
    items = [heron_item(f"q{i}", "conv") for i in range(5)]
    preds = [
        pred("q0", json_verdict(8, 6)),
        pred("q1", json_verdict(8, 4)),
        pred("q2", '<<{"score_gpt": 8}>>'),  # a key missing: unparsable
        pred("q3", "[[500x9]]"),  # failed call
        pred("q4", "", error="http_500"),  # the model's call failed: not judged
    ]
    with judge_server() as server:
        scorer = HeronJudge()
        scores = scorer.score(items, preds, judge_client(server, tmp_path))
    result = scorer.aggregate(items, scores)
    assert result.overall == pytest.approx(100 * 5 / 8, abs=1e-6)
    assert result.excluded == {"judge_unparsable": 1, "judge_call_failed": 1, "prediction_failed": 1}
    assert result.details["judge_failures"] == 2


@pytest.mark.skipif(not HERON.is_dir(), reason="the bundled Heron-Bench files are missing")
def test_the_real_heron_bench_questions_and_answers(tmp_path):
    # the 103 real questions, GPT-4 references and contexts, Claude 3's answers (no images needed: the
    # judge reads the context); a judge that always replies 8 / 6 makes every category 75
    def rows(name):
        return [json.loads(line) for line in (HERON / name).read_text(encoding="utf-8").splitlines() if line]

    references = {r["question_id"]: r["text"] for r in rows("answers_gpt4.jsonl")}
    items = [
        item(
            str(q["question_id"]),
            references[q["question_id"]],
            category=q["category"],
            prompt=q["text"],
            meta={"context": q["context"], "reference_answer": references[q["question_id"]]},
        )
        for q in rows("questions_ja.jsonl")
    ]
    preds = [pred(str(a["question_id"]), a["text"]) for a in rows("claude3_0404_ja.jsonl")]
    with judge_server() as server:
        server.reply = lambda prompt: '{"score_gpt": 8, "score": 6}'
        scorer = HeronJudge()
        scores = scorer.score(items, preds, judge_client(server, tmp_path, concurrency=16))
        assert server.requests == 103
    result = scorer.aggregate(items, scores)
    assert result.n == 103 and sorted(result.by_category) == ["complex", "conv", "detail"]
    assert result.overall == pytest.approx(75.0, abs=1e-6)

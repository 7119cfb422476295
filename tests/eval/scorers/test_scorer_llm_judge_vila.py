"""The 1-5 judge against the real test server: scores, strict parsing, failures counted never zeros."""

import pytest
from judge_server import judge_client, judge_server
from scorer_cases import item, pred

from polyvlm.eval.scorer import SCORERS
from polyvlm.eval.scorers.judge_replies import parse_score_line
from polyvlm.eval.scorers.llm_judge_vila import VilaJudge


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Score: 4", 4),
        ("The answer is close.\nScore: 3", 3),
        ("Score：５", 5),  # full width
        ("**Score:** 2", 2),
        ("score: 1", 1),
        ("Score: 6", None),  # out of range
        ("Score: 4.5", None),
        ("4", None),  # no "Score:"
        ("Score: 3 ... on reflection Score: 4", None),  # two different scores
        ("", None),
    ],
)
def test_strict_parsing(reply, expected):
    assert parse_score_line(reply) == expected


def test_scores_and_every_kind_of_failure_counted_never_zero(tmp_path):
    items = [item(str(i), "東京タワーです。", prompt=f"これは何ですか？ {i}") for i in range(8)]
    answers = [
        "東京タワー <<Score: 4>>",
        "タワー <<Score: 2>>",
        "東京タワーです <<Score: 5>>",
        "<<I would rate this highly.>>",  # unparsable
        "<<Score: 9>>",  # out of range: unparsable
        "no verdict",  # the server's default answer: unparsable
        "[[500x9]] <<Score: 5>>",  # 5xx after retries: failed call
        "[[stallx9]] <<Score: 5>>",  # timeouts after retries: failed call
    ]
    preds = [pred(str(i), a) for i, a in enumerate(answers)]
    with judge_server() as server:
        scorer = VilaJudge()
        scores = scorer.score(items, preds, judge_client(server, tmp_path))
        # requests arrive in any order (concurrency): take the one about item 0
        body = next(b for b in server.bodies if "これは何ですか？ 0" in b["messages"][-1]["content"])
    assert [s.value for s in scores[:3]] == [4.0, 2.0, 5.0]
    assert [s.reason for s in scores[3:]] == ["judge_unparsable"] * 3 + ["judge_call_failed"] * 2
    assert scores[6].detail["error"] == "http_500" and scores[7].detail["error"] == "timeout"
    assert "I would rate" in scores[3].detail["reply"]
    result = scorer.aggregate(items, scores)
    assert result.overall == pytest.approx(11 / 3, abs=1e-9)  # the mean of 4, 2, 5 — no zeros averaged in
    assert result.n == 3
    assert result.excluded == {"judge_unparsable": 3, "judge_call_failed": 2}
    assert result.details["judge_failures"] == 5
    assert result.details["judge_prompt"] == "vila_judge" and len(result.details["judge_prompt_sha256"]) == 64
    assert result.ci_low <= result.overall <= result.ci_high
    assert body["temperature"] == 0.0 and body["seed"] == 0
    prompt = body["messages"][-1]["content"]
    assert "これは何ですか？ 0" in prompt and "東京タワーです。" in prompt and "Score: X" in prompt


def test_failed_predictions_are_not_judged_and_runs_are_distinct_requests(tmp_path):
    assert SCORERS["llm_judge_vila"] is VilaJudge and VilaJudge.needs_judge
    assert list(VilaJudge().prompt_sha256s()) == ["vila_judge"]
    items = [item("a", "猫"), item("b", "犬"), item("c", None)]
    preds = [pred("a", "猫です <<Score: 5>>"), pred("b", "", error="timeout"), pred("c", "x")]
    with judge_server() as server:
        client = judge_client(server, tmp_path)
        first = VilaJudge(run=0).score(items, preds, client)
        assert server.requests == 1  # only item a was judged
        again = VilaJudge(run=0).score(items, preds, client)
        assert server.requests == 1  # the same run again: from the cache
        VilaJudge(run=1).score(items, preds, client)
        assert server.requests == 2 and server.bodies[-1]["seed"] == 1  # a repeat run: a new request
    assert first == again
    assert [s.reason for s in first] == ["", "prediction_failed", "no_reference"]


def test_without_a_judge_the_scorer_says_what_to_do():
    with pytest.raises(ValueError, match="needs a judge"):
        VilaJudge().score([item("a", "x")], [pred("a", "x")], None)

"""The binary grader against the real test server: verdicts read strictly, failures counted never zeros."""

import pytest
from judge_server import judge_client, judge_server
from scorer_cases import item, pred

from polyvlm.eval.scorer import SCORERS
from polyvlm.eval.scorers.binary_judge import BinaryJudge
from polyvlm.eval.scorers.judge_replies import parse_correct_verdict


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("extracted_final_answer: 120\nreasoning: same\ncorrect: yes", True),
        ("extracted_final_answer: 100\nreasoning: differs\ncorrect: no", False),
        ("Correct: YES", True),
        ("**correct:** no", False),
        ("correct：ｙｅｓ", True),  # full width
        ("correct: yes\n...\ncorrect: no", None),  # contradictory
        ("incorrect: no", None),  # not the verdict line
        ("The answer is correct.", None),
        ("", None),
    ],
)
def test_strict_verdict_parsing(reply, expected):
    assert parse_correct_verdict(reply) == expected


def test_verdicts_and_failures_counted_never_zero(tmp_path):
    assert SCORERS["binary_judge"] is BinaryJudge and BinaryJudge.needs_judge
    items = [item(str(i), "120", meta={"question": f"最大値は？ {i}"}) for i in range(6)]
    answers = ["120です <<correct: yes>>", "100 <<correct: no>>", "120 <<correct: yes>>",
               "<<looks right>>", "[[500x9]] <<correct: yes>>", "x"]  # fmt: skip
    preds = [pred(str(i), a) for i, a in enumerate(answers[:5])] + [pred("5", error="timeout")]
    with judge_server() as server:
        scorer = BinaryJudge()
        scores = scorer.score(items, preds, judge_client(server, tmp_path))
        body = next(b for b in server.bodies if "最大値は？ 0" in b["messages"][-1]["content"])
    assert [s.value for s in scores[:3]] == [1.0, 0.0, 1.0]
    assert [s.reason for s in scores[3:]] == ["judge_unparsable", "judge_call_failed", "prediction_failed"]
    result = scorer.aggregate(items, scores)
    assert result.overall == pytest.approx(200 / 3, abs=1e-9)  # 2 of the 3 judged, no zeros averaged in
    assert result.details["judge_failures"] == 2
    assert result.excluded == {"judge_unparsable": 1, "judge_call_failed": 1, "prediction_failed": 1}
    assert (
        result.details["judge_prompt"] == "binary_judge" and len(result.details["judge_prompt_sha256"]) == 64
    )
    assert body["temperature"] == 0.0
    prompt = body["messages"][-1]["content"]
    assert "最大値は？ 0" in prompt and "[correct_answer]: 120" in prompt and "correct: yes" in prompt

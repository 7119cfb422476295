"""LLaVA-Bench's judge-relative score: over all items (not the mean of categories), rules per variant."""

import pytest
from judge_server import judge_client, judge_server
from scorer_cases import item, pred

from polyvlm.eval.scorer import SCORERS
from polyvlm.eval.scorers.llava_judge import LlavaJudge


def llava_case(qid: str, category: str, ref: int, model: int):
    meta = {"context": "a red bus (0.1, 0.2, 0.5, 0.6)"}
    return item(qid, f"GPT-4 answer {qid}", category=category, meta=meta), pred(qid, f"<<{ref} {model}>>")


def test_overall_ratio_over_all_items_and_the_coco_rules(tmp_path):
    cases = [llava_case("1", "conv", 8, 4), llava_case("2", "conv", 8, 4), llava_case("3", "detail", 10, 10)]
    items, preds = [c[0] for c in cases], [c[1] for c in cases]
    with judge_server() as server:
        scorer = LlavaJudge(rules="coco")
        scores = scorer.score(items, preds, judge_client(server, tmp_path))
        # requests arrive in any order (concurrency): take the one about item 1
        user = next(c for b in server.bodies if "GPT-4 answer 1" in (c := b["messages"][-1]["content"]))
    result = scorer.aggregate(items, scores)
    tol = 1e-6
    assert result.by_category == pytest.approx({"conv": 50.0, "detail": 100.0}, abs=tol)
    assert result.overall == pytest.approx(100 * 18 / 26, abs=tol)  # not (50 + 100) / 2
    assert "five descriptive sentences" in user and "GPT-4 answer 1" in user
    assert "give it a low score" not in user  # Heron's closing line is Heron's only
    assert result.details["judge_failures"] == 0


def test_in_the_wild_rules_and_an_unreadable_first_line(tmp_path):
    item_a, pred_a = llava_case("a", "complex", 9, 6)
    item_b = item("b", "ref", category="complex")
    with judge_server() as server:
        scorer = LlavaJudge()
        scores = scorer.score(
            [item_a, item_b], [pred_a, pred("b", "<<Assistant 1 gets 9.>>")], judge_client(server, tmp_path)
        )
        user = server.bodies[0]["messages"][-1]["content"]
    result = scorer.aggregate([item_a, item_b], scores)
    assert "a few sentences describing the image" in user
    assert result.overall == pytest.approx(100 * 6 / 9, abs=1e-6)
    assert result.excluded == {"judge_unparsable": 1}


def test_auto_rules_follow_the_task_and_the_prompt_files_are_named(tmp_path):
    coco = item("c", "ref", category="detail", task="llava-bench-coco-ja")
    wild = item("w", "ref", category="detail", task="llava-bench-in-the-wild")
    scorer = SCORERS["llava_judge"]()
    assert "five descriptive sentences" in scorer._conversation(coco, "x")[-1]["content"]
    assert "a few sentences describing" in scorer._conversation(wild, "x")[-1]["content"]
    assert sorted(scorer.prompt_sha256s()) == ["judge_pairwise", "llava_rules"]
    assert all(len(h) == 64 for h in scorer.prompt_sha256s().values())

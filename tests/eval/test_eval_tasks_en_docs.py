"""The English document, chart and perception tasks from their fixtures, scored by their default metrics:
the published layouts give the right references, images and categories, and the scores come out as the
official rules say."""

from __future__ import annotations

import pytest

from polyvlm.eval.items import Prediction
from polyvlm.eval.registry import get_task, load_builtin_scorers


def scored(fixtures, task_name: str, answers: list[str]):
    """The task's items and its default metric's result for one answer per item."""
    task = get_task(task_name)
    items = list(task.load(str(fixtures / task_name)))
    assert len(items) == len(answers)
    scorer = load_builtin_scorers()[task.default_metrics[0]]()
    preds = [Prediction(it.question_id, a) for it, a in zip(items, answers, strict=True)]
    scores = scorer.score(items, preds)
    return items, [s.value for s in scores], scorer.aggregate(items, scores)


def test_textvqa_and_okvqa_score_against_ten_humans(fixtures):
    items, values, result = scored(fixtures, "textvqa", ["Stop sign.", "Coca-Cola"])
    assert len(items[0].reference) == 10 and items[0].prompt.startswith("What does the sign say?")
    # "stop sign": 2 of 10 humans -> 0.6; "coca cola" matches the 5 "coca cola"/"coca-cola" answers -> 1
    assert values == [pytest.approx(0.6), pytest.approx(1.0)]
    assert result.overall == pytest.approx(80.0)
    _, values, _ = scored(fixtures, "okvqa", ["an iron", "sailing"])
    assert values == [pytest.approx(1.0), 0.0]


def test_docvqa_and_infovqa_take_the_best_anls_over_the_answers(fixtures):
    _, values, _ = scored(fixtures, "docvqa", ["1,234", "Jon Smith"])
    assert values == [pytest.approx(1 - 3 / 8), pytest.approx(0.9)]  # "1,234" vs "1,234.00"; one letter short
    items, values, result = scored(fixtures, "infovqa", ["12", "seven"])
    assert values == [pytest.approx(1.0), 0.0] and set(result.by_category) == {
        "single span",
        "non-extractive",
    }


def test_chartqa_reports_human_and_augmented(fixtures):
    _, values, result = scored(fixtures, "chartqa", ["125", "blue", "43"])
    assert values == [1.0, 1.0, 0.0]  # 125 is 4.2 % off 120; 43 is 5.5 % off 45.5
    assert result.by_category["human"] == pytest.approx(100.0) and "augmented" in result.by_category


def test_mmmu_shows_images_in_question_order_and_parses_open_answers(fixtures):
    items, values, result = scored(fixtures, "mmmu", ["(A)", "B", "So the speed is 48 km/h"])
    assert len(items[1].images) == 2 and "[image 2]" in items[1].prompt and items[2].choices is None
    assert values == [1.0, 1.0, 1.0] and result.by_category.keys() == {"Art", "Geography", "Math"}


def test_blink_sends_every_image_and_reads_the_bracketed_letter(fixtures):
    items, values, _ = scored(fixtures, "blink", ["(B)", "The answer is (C)"])
    assert [len(it.images) for it in items] == [2, 1] and items[0].reference == "B"
    assert values == [1.0, 0.0]


def test_countbench_and_realworldqa(fixtures):
    _, values, _ = scored(fixtures, "countbenchqa", ["There are two taxis.", "4"])
    assert values == [1.0, 0.0]
    _, values, _ = scored(fixtures, "realworldqa", ["A.", "two"])
    assert values == [1.0, 0.0]  # exact match: "two" is not "2"

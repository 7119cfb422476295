"""JDocQA's metric as llm-jp-eval-mm computes it: sacrebleu BLEU over MeCab words, normalised containment."""

import pytest
from scorer_cases import item, pred, run

from polyvlm.eval.scorers.jdocqa import JDocQAScore, bleu_ja, jdocqa_normalize


def test_bleu_of_a_japanese_pair_worked_by_hand():
    # MeCab (IPAdic): 東京 駅 の 北側 に あり ます 。 vs 東京 駅 の 北 に あり ます 。 — 8 words each
    # n-gram precisions 7/8, 5/7, 3/6, 1/5; brevity penalty 1; BLEU = (7/8 · 5/7 · 1/2 · 1/5) ** (1/4) = 0.5
    assert bleu_ja(["東京駅の北側にあります。"], "東京駅の北にあります。") == pytest.approx(0.5, abs=1e-12)
    assert bleu_ja(["私は猫です。"], "私は猫です。") == pytest.approx(
        1.0, abs=1e-12
    )  # the anchor's test pair


def test_normalisation_and_containment_per_answer_type():
    assert jdocqa_normalize("はい、そうです。") == "はいそう"
    assert jdocqa_normalize("１２３ 件") == "123件"  # NFKC after the spaces go
    cases = [
        (item("y", "はい", meta={"answer_type": 0}, category="yesno_exact"), "はい、そうです。"),
        (item("f", "青", meta={"answer_type": 1}, category="factoid_exact"), "赤です"),
        (item("n", "3枚", meta={"answer_type": 2}, category="numerical_exact"), "写真は３枚です"),
        (item("o", "東京駅の北側にあります。", meta={"answer_type": 3}, category="open-ended_bleu"),
         "東京駅の北にあります。"),
    ]  # fmt: skip
    scores, result = run(JDocQAScore(), cases)
    assert [s.value for s in scores[:3]] == [1.0, 0.0, 1.0]
    assert scores[3].value == pytest.approx(0.5, abs=1e-12)
    assert result.overall == pytest.approx(100 * 2.5 / 4, abs=1e-9)  # the anchor's overall: mean of all items
    assert result.by_category == pytest.approx(
        {"yesno_exact": 100.0, "factoid_exact": 0.0, "numerical_exact": 100.0, "open-ended_bleu": 50.0}
    )


def test_failed_prediction_and_unknown_type_are_excluded_not_zero():
    items = [item("a", "はい", meta={"answer_type": 0}), item("b", "はい", meta={"answer_type": 9}),
             item("c", "はい", meta={"answer_type": 0})]  # fmt: skip
    scorer = JDocQAScore()
    scores = scorer.score(items, [pred("a", "はい"), pred("b", "はい"), pred("c", error="timeout")])
    result = scorer.aggregate(items, scores)
    assert result.overall == pytest.approx(100.0) and result.n == 1
    assert result.excluded == {"unknown_answer_type": 1, "prediction_failed": 1}

"""ROUGE-L (Japanese and other languages) against the published figures, with real MeCab words."""

import pytest
from scorer_cases import item, pred, run

from polyvlm.eval.scorer import SCORERS
from polyvlm.eval.scorers.rouge_ja import RougeL, lcs_length, rouge_l_text
from polyvlm.eval.scorers.word_tokens import words

TOL = 0.01  # figures are published to two decimals


@pytest.mark.parametrize(
    ("reference", "prediction", "expected"),
    [
        ("白色", "車は白いです。", 0.0),  # LLM-jp-3 VILA, Figure 2
        ("白色", "車は白色です。", 33.33),
        ("白色", "白色", 100.0),
        ("たかしが公園で遊んでいた。", "たかしが公園にいたようだ。", 66.67),  # llm-jp-eval-mm's tests
        ("池のほとりです。", "ここは湖の岸です。", 50.0),
        ("私は猫です。", "私は猫です。", 100.0),
    ],
)
def test_published_figures(reference, prediction, expected):
    assert rouge_l_text(reference, prediction, "ja") == pytest.approx(expected, abs=TOL)
    assert rouge_l_text(reference, prediction) == pytest.approx(expected, abs=TOL)  # detected as ja


def test_japanese_words_keep_punctuation_and_lose_emoji_and_width():
    assert words("池のほとりです。", "ja") == ["池", "の", "ほとり", "です", "。"]
    assert words("ＡＢＣ  です😀", "ja") == words("ABC です", "ja")
    assert words("1️⃣ 東京👨‍👩‍👧", "ja") == words("東京", "ja")  # keycap and ZWJ sequences go whole
    assert rouge_l_text("車は白色です。", "車は白色です。😀🚗") == pytest.approx(100.0, abs=TOL)


def test_other_languages_keep_accents():
    assert words("Un été à Paris, n'est-ce pas ?", "fr") == [
        "un",
        "été",
        "à",
        "paris",
        "n",
        "est",
        "ce",
        "pas",
    ]
    assert words("Straße", "de") == ["strasse"]  # case-folded, not cut at the ß
    # "ete" is not "été": 2 of 4 words shared
    assert rouge_l_text("un été à Paris", "un ete a Paris", "fr") == pytest.approx(50.0, abs=TOL)


def test_lcs_on_word_lists():
    assert lcs_length(["a", "b", "c", "d"], ["a", "c", "d", "x"]) == 3
    assert lcs_length([], ["a"]) == 0


def test_scorer_means_items_takes_the_best_reference_and_excludes_failures():
    assert SCORERS["rougel"] is RougeL
    scorer = RougeL()
    cases = [
        (item("1", "白色", language="ja"), "車は白色です。"),
        (
            item("2", ("池のほとりです。", "湖の岸です。"), language="ja"),
            "ここは湖の岸です。",
        ),  # 2nd ref: LCS 5 of 7 and 5 words, F = 10/12
        (item("3", "白色", language="ja"), ""),  # an empty answer is a wrong one: 0
    ]
    scores, result = run(scorer, cases)
    assert [s.value for s in scores] == pytest.approx([33.33, 83.33, 0.0], abs=TOL)
    assert result.overall == pytest.approx((33.333 + 83.333 + 0.0) / 3, abs=TOL)
    assert result.n == 3 and result.excluded == {}
    assert result.ci_low <= result.overall <= result.ci_high

    items = [c[0] for c in cases]
    failed = scorer.score(items, [pred("1", "車は白色です。"), pred("2", error="timeout")])
    assert [s.reason for s in failed] == ["", "prediction_failed", "no_prediction"]
    assert scorer.aggregate(items, failed).excluded == {"prediction_failed": 1, "no_prediction": 1}


def test_a_missing_package_names_what_to_install():
    from polyvlm.eval.scorers.scorer_packages import needed

    with pytest.raises(ImportError, match="pip install"):
        needed("polyvlm_no_such_package")

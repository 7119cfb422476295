"""CC-OCR's character-level F1 reproduces llm-jp-eval-mm's own test figures (tests/test_cc_ocr_scorer.py)."""

import pytest
from scorer_cases import item, run

from polyvlm.eval.scorers.cc_ocr import CCOCRScore, ocr_chars


def test_the_anchors_partial_match_example():
    cases = [(item("1", "リンゴ バナナ オレンジ"), "リンゴ バ ナナ"), (item("2", "猫 犬"), "猫 犬 鳥")]
    scores, result = run(CCOCRScore(), cases)
    assert [s.value for s in scores] == pytest.approx([0.75, 0.8], abs=1e-6)
    assert result.overall == pytest.approx(77.5, abs=1e-4)
    assert result.details["micro_f1_score"] == pytest.approx(100 * 16 / 21, abs=1e-4)
    assert result.details["macro_f1_score"] == pytest.approx(77.5, abs=1e-4)


def test_the_anchors_normalisation_example():
    # an ideographic space is whitespace; わ for は costs one character of seven
    cases = [(item("1", "こんにちは\u3000世界"), "こんにちわ世界"),
             (item("2", "吾輩は猫である。名前はまだ無い。"), "吾輩は猫である。名前はまだ無 い。")]  # fmt: skip
    scores, result = run(CCOCRScore(), cases)
    assert [s.value for s in scores] == pytest.approx([6 / 7, 1.0], abs=1e-6)
    assert result.overall == pytest.approx(100 * 13 / 14, abs=1e-4)
    assert result.details["micro_f1_score"] == pytest.approx(100 * 22 / 23, abs=1e-4)


def test_markers_case_and_empty_answer():
    assert ocr_chars("AB###c\n d***") == ["a", "b", "c", "d"]
    scores, _ = run(CCOCRScore(), [(item("1", "駅"), ""), (item("2", ""), "駅")])
    assert scores[0].value == 0.0  # an empty transcription is a wrong one
    assert scores[1].value is None and scores[1].reason == "no_reference"

"""MTVQA: lower, strip, no '.', reference contained in the prediction; per language."""

import pytest
from scorer_cases import item, run

from polyvlm.eval.scorers.mtvqa import MTVQAContains, mtvqa_normalize


def test_mtvqa_rule_and_per_language_figures():
    assert mtvqa_normalize("  U.S.A. ") == "usa"
    cases = [
        (item("1", "U.S.A.", language="en"), "The answer is usa"),
        (item("2", "Tokyo", language="en"), "Kyoto."),
        (item("3", "東京", language="ja"), "東京です。"),
        (item("4", "Mont-Blanc", language="fr"), "c'est le mont-blanc."),
    ]
    scores, result = run(MTVQAContains(), cases)
    assert [s.value for s in scores] == [1.0, 0.0, 1.0, 1.0]
    assert result.overall == pytest.approx(75.0, abs=1e-9)
    assert result.details["by_language"] == pytest.approx({"en": 50.0, "fr": 100.0, "ja": 100.0}, abs=1e-9)

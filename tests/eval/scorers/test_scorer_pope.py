"""POPE on a small hand-made set: accuracy, precision, recall, F1, yes ratio by hand."""

import pytest
from scorer_cases import item, run

from polyvlm.eval.scorers.pope import POPE


def test_pope_figures_by_hand():
    cases = [
        (item("1", "yes", category="random"), "Yes, there is."),  # TP
        (item("2", "yes", category="random"), "Yes"),  # TP
        (item("3", "yes", category="random"), "No."),  # FN
        (item("4", "yes", category="adversarial"), "I can't tell"),  # unparsable: FN, wrong
        (item("5", "no", category="adversarial"), "Yes"),  # FP
        (item("6", "no", category="adversarial"), "No"),  # TN
        (item("7", "no", category="adversarial"), "hmm"),  # unparsable: wrong, not a FP
        (item("8", "no", category="random"), "no"),  # TN
    ]
    scores, result = run(POPE(), cases)
    d = result.details
    tol = 1e-9
    assert d["accuracy"] == pytest.approx(100 * 4 / 8, abs=tol)
    assert d["precision"] == pytest.approx(100 * 2 / 3, abs=tol)
    assert d["recall"] == pytest.approx(100 * 2 / 4, abs=tol)
    f1 = 2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4)
    assert d["f1"] == pytest.approx(100 * f1, abs=tol) and result.overall == d["f1"]
    assert d["yes_ratio"] == pytest.approx(100 * 3 / 8, abs=tol)  # predicted yes, not gold yes (4/8)
    assert d["unparsable"] == 2
    assert result.by_category["random"] == pytest.approx(100 * 2 * 1 * (2 / 3) / (1 + 2 / 3), abs=tol)
    assert result.ci_low <= result.overall <= result.ci_high


def test_headline_can_be_accuracy():
    _, result = run(POPE(headline="accuracy"), [(item("1", "yes"), "yes"), (item("2", "no"), "yes")])
    assert result.overall == pytest.approx(50.0, abs=1e-9)

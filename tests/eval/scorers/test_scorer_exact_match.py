"""Exact match after NFKC, whitespace and case normalisation."""

import pytest
from scorer_cases import item, run

from polyvlm.eval.scorers.exact_match import ExactMatch


def test_normalised_equality_in_japanese_and_english():
    cases = [
        (item("1", "東京"), " 東京 "),
        (item("2", "ＡＢＣ１２３"), "abc123"),  # full width = half width
        (item("3", ("Paris", "paris, France")), "PARIS"),
        (item("4", "東京"), "東京です"),  # not equal: wrong
        (item("5", "B"), "B."),  # a final full stop is no part of the answer
    ]
    scores, result = run(ExactMatch(), cases)
    assert [s.value for s in scores] == [1.0, 1.0, 1.0, 0.0, 1.0]
    assert result.overall == pytest.approx(80.0, abs=1e-9)
    assert result.ci_low <= result.overall <= result.ci_high


def test_case_can_matter_and_items_without_reference_are_excluded():
    scores, result = run(ExactMatch(casefold=False), [(item("1", "H2O"), "h2o"), (item("2", None), "x")])
    assert [s.value for s in scores] == [0.0, None]
    assert result.excluded == {"no_reference": 1} and result.n == 1

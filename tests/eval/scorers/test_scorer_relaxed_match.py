"""Relaxed accuracy: 5 % on numbers, exact on the rest."""

import pytest
from scorer_cases import item, run

from polyvlm.eval.scorers.relaxed_match import RelaxedMatch, as_number, relaxed_equal


def test_numbers_within_five_percent():
    assert as_number("1,234") == 1234.0 and as_number("12%") == 12.0 and as_number("１２") == 12.0
    assert relaxed_equal("104", "100") and not relaxed_equal("106", "100")
    assert relaxed_equal("0", "0") and not relaxed_equal("0.01", "0")
    assert relaxed_equal("Yes", "yes") and not relaxed_equal("yes.", "yes")


def test_scorer_percentage():
    cases = [(item("1", "100"), "95"), (item("2", "100"), "94.9"), (item("3", "Tokyo"), "tokyo")]
    scores, result = run(RelaxedMatch(), cases)
    assert [s.value for s in scores] == [1.0, 0.0, 1.0]
    assert result.overall == pytest.approx(200 / 3, abs=1e-9)

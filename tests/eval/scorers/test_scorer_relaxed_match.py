"""Relaxed accuracy as ChartQA's reference code computes it: 5 % on numbers, equality ignoring case otherwise."""

import pytest
from scorer_cases import item, run

from polyvlm.eval.scorers.relaxed_match import RelaxedMatch, as_number, relaxed_equal


def test_the_five_percent_rule_on_numbers():
    # reference 100: 95 and 105 are inside 5 %, 94.9 and 105.1 are not
    assert relaxed_equal("95", "100") and relaxed_equal("105", "100")
    assert not relaxed_equal("94.9", "100") and not relaxed_equal("105.1", "100")
    assert relaxed_equal("12.3", "12.5") and not relaxed_equal("11.8", "12.5")  # 1.6 % and 5.6 % off
    assert as_number("12%") == pytest.approx(0.12) and relaxed_equal("12%", "0.12")  # '%' divides by 100
    assert not relaxed_equal("12%", "12")


def test_text_answers_are_exact_ignoring_case_and_the_reference_code_quirks_hold():
    assert relaxed_equal("Yes", "yes") and relaxed_equal("Tokyo\n", "tokyo")
    assert not relaxed_equal("yes.", "yes") and not relaxed_equal("Tokyo Tower", "Tokyo")
    assert not relaxed_equal("1,234", "1234")  # float() does not read a thousands separator: text compare
    assert relaxed_equal("0", "0") and not relaxed_equal("0.0", "0")  # a zero reference: compared as text


def test_scorer_percentage():
    cases = [(item("1", "100"), "95"), (item("2", "100"), "94.9"), (item("3", "Tokyo"), "tokyo")]
    scores, result = run(RelaxedMatch(), cases)
    assert [s.value for s in scores] == [1.0, 0.0, 1.0]
    assert result.overall == pytest.approx(200 / 3, abs=1e-9)

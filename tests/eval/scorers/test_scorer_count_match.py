"""Counting accuracy: the last number the answer states, digits or words; no number is counted, wrong."""

import pytest
from scorer_cases import item, run

from polyvlm.eval.scorers.count_match import CountMatch, stated_count


def test_the_stated_count():
    assert stated_count("There are seven dogs.") == 7
    assert stated_count("7") == 7 and stated_count("I see 3, no, 4") == 4
    assert stated_count("1,200 birds") == 1200 and stated_count("Twelve") == 12
    assert stated_count("about 2.5 apples") is None  # not a count
    assert stated_count("someone is there") is None  # "one" inside a word is no number


def test_scorer():
    cases = [(item("1", "5"), "There are five cats."), (item("2", "3"), "4"), (item("3", "2"), "many")]
    scores, result = run(CountMatch(), cases)
    assert [s.value for s in scores] == [1.0, 0.0, 0.0]
    assert result.details["unparsable"] == 1 and result.overall == pytest.approx(100 / 3, abs=1e-9)

"""ANLS: 1 - normalised edit distance, nothing past 0.5."""

import pytest
from scorer_cases import item, run

from polyvlm.eval.scorers.anls import ANLS, anls_one


def test_anls_by_hand():
    assert anls_one("receipt", "receipt") == pytest.approx(1.0)
    assert anls_one("reciept", "receipt") == pytest.approx(1 - 2 / 7, abs=1e-9)  # two substitutions
    assert anls_one("abc", "xyz") == 0.0
    assert anls_one("東京都", "東京") == pytest.approx(1 - 1 / 3, abs=1e-9)
    assert anls_one("ab", "abcd") == 0.0  # distance exactly 0.5: no credit


def test_scorer_takes_the_best_reference():
    cases = [(item("1", ("total", "receipt")), "RECIEPT"), (item("2", "abc"), "xyz")]
    scores, result = run(ANLS(), cases)
    assert scores[0].value == pytest.approx(5 / 7, abs=1e-9)
    assert result.overall == pytest.approx(100 * (5 / 7) / 2, abs=1e-9)


def test_official_near_miss_and_threshold():
    # DocVQA's definition: NL = edit distance / longer length; 1 - NL when NL < 0.5, else nothing
    assert anls_one("$1,234", "$1,234.00") == pytest.approx(1 - 3 / 9, abs=1e-12)  # three characters short
    assert anls_one("Total  Due ", "total due") == pytest.approx(1.0)  # case and spacing do not count
    assert anls_one("Jon Smyth", "John Smith") == pytest.approx(1 - 2 / 10, abs=1e-12)
    assert anls_one("abcde", "abxyz") == 0.0  # NL 0.6: past the threshold

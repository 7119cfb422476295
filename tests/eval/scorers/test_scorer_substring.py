"""Substring match: the reference inside a free-form answer."""

import pytest
from scorer_cases import item, run

from polyvlm.eval.scorers.substring import SubstringMatch


def test_reference_inside_the_answer():
    cases = [
        (item("1", "富士山"), "これは富士山の写真です。"),
        (item("2", "Eiffel Tower"), "It shows the eiffel  tower at night."),
        (item("3", ("cat", "kitten")), "A small KITTEN."),
        (item("4", "犬"), "猫が寝ています。"),
        (item("5", ""), "anything"),  # "" is in every string: excluded, not right
    ]
    scores, result = run(SubstringMatch(), cases)
    assert [s.value for s in scores] == [1.0, 1.0, 1.0, 0.0, None]
    assert result.overall == pytest.approx(75.0, abs=1e-9)
    assert result.excluded == {"no_reference": 1}

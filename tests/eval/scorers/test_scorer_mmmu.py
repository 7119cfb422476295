"""MMMU accuracy with MMMU's own parsing: letters, option text, open answers with numbers."""

import pytest
from scorer_cases import item, run

from polyvlm.eval.scorers.mmmu import MMMUAccuracy, parse_choice, parse_open

CHOICES = {"A": "an iron", "B": "a boat", "C": "a lake", "D": "a tree"}


def test_choice_parsing_as_mmmu():
    assert parse_choice("(B)", CHOICES) == "B"
    assert parse_choice("B.", CHOICES) == "B"  # trailing punctuation trimmed, then a letter standing alone
    assert parse_choice("It is (A), no wait, (C)", CHOICES) == "C"  # the last bracketed letter
    long = "I think the picture shows a lake by the hills"
    assert parse_choice(long, CHOICES) == "C"  # option text, in an answer of more than 5 words
    assert parse_choice("a lake", CHOICES) is None  # option text only counts in longer answers
    assert parse_choice("I cannot tell.", CHOICES) is None


def test_open_answers_as_mmmu():
    assert 12.0 in parse_open("First 3 + 9. So the total is 12.")
    assert 1234.0 in parse_open("The answer is 1,234")
    assert "paris" in parse_open("The capital is Paris.")


def test_scorer_counts_unparsable_and_scores_open_items():
    cases = [
        (item("1", "C", choices=CHOICES), "The answer is (C)"),
        (item("2", "A", choices=CHOICES), "no idea"),
        (item("3", "12.5"), "So the result is 12.50 degrees"),  # 12.50 rounds to the gold 12.5
        (item("4", ("paris", "Paris, France")), "It is Paris"),
        (item("5", "4"), "It is 5"),
    ]
    scores, result = run(MMMUAccuracy(), cases)
    assert [s.value for s in scores] == [1.0, 0.0, 1.0, 1.0, 0.0]
    assert result.details["unparsable"] == 1 and result.overall == pytest.approx(60.0, abs=1e-9)
    seeded = MMMUAccuracy(random_seed=3).score_text(cases[1][0], "no idea")
    assert seeded.detail["random_pick"] in CHOICES and seeded.detail["unparsable"]

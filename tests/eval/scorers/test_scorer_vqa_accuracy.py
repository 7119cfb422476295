"""VQA accuracy: min(#humans/3, 1) averaged over the ten leave-one-out sets, official normalisation."""

import pytest
from scorer_cases import item, run

from polyvlm.eval.scorers.vqa_accuracy import VQAAccuracy, normalize_vqa, vqa_accuracy


def humans(answer: str, k: int, other: str = "cat") -> tuple[str, ...]:
    """Ten human answers, `k` of them `answer`."""
    return (answer,) * k + (other,) * (10 - k)


def test_the_official_worked_example_two_of_ten_is_0_6():
    # 2 of the 10 sets drop a matching human (1 match left: 1/3), 8 keep both (2/3): (2/3 + 16/3) / 10
    assert vqa_accuracy("dog", humans("dog", 2)) == pytest.approx(0.6, abs=1e-12)
    assert vqa_accuracy("dog", humans("dog", 1)) == pytest.approx(0.3, abs=1e-12)
    assert vqa_accuracy("dog", humans("dog", 3)) == pytest.approx(0.9, abs=1e-12)
    assert vqa_accuracy("dog", humans("dog", 4)) == pytest.approx(1.0, abs=1e-12)
    assert vqa_accuracy("bird", humans("dog", 4)) == 0.0


def test_official_normalisation():
    assert normalize_vqa("Two dogs.") == "2 dogs"  # period dropped, number word to digit
    assert normalize_vqa("The cat") == "cat"  # article
    assert normalize_vqa("dont know") == "don't know"  # contraction restored
    assert normalize_vqa("3.5") == "3.5"  # a period before a digit stays
    assert normalize_vqa("1,000") == "1000"  # digit-comma-digit: every mark deleted
    assert normalize_vqa("black-and-white") == "black and white"  # a mark inside a word: a space
    assert normalize_vqa("Hello, world!") == "hello world"  # a mark touching a space: deleted
    assert vqa_accuracy("Two.", humans("2", 3, other="3")) == pytest.approx(0.9, abs=1e-12)


def test_when_all_humans_agree_their_answer_is_compared_as_given():
    # the official script normalises the humans' answers only when they differ
    assert vqa_accuracy("Yes", ("yes",) * 10) == pytest.approx(1.0)  # the prediction is normalised
    assert vqa_accuracy("yes", ("Yes",) * 10) == 0.0  # the humans' answer is not


def test_scorer_mean_in_percent_and_excludes_items_without_humans():
    cases = [
        (item("1", humans("dog", 2)), "a dog"),
        (item("2", humans("red", 10)), "red"),
        (item("3", None), "x"),
    ]
    scores, result = run(VQAAccuracy(), cases)
    assert [s.value for s in scores[:2]] == [pytest.approx(0.6), pytest.approx(1.0)]
    assert result.overall == pytest.approx(80.0, abs=1e-9) and result.excluded == {"no_reference": 1}

"""Circular evaluation: a question counts only when every rotation is answered right."""

import pytest
from scorer_cases import item, pred

from polyvlm.eval.scorers.circular import CircularChoice


def rotations(group: str, answer_text: str, category: str = "") -> list:
    """Four rotations of one question whose right option is "cat"."""
    options = ["cat", "dog", "bird", "fish"]
    out = []
    for r in range(4):
        rotated = options[r:] + options[:r]
        choices = dict(zip("ABCD", rotated, strict=True))
        gold = "ABCD"[rotated.index("cat")]
        out.append(item(f"{group}-{r}", gold, choices=choices, group=group, category=category))
    return out


def test_only_fully_right_groups_count():
    q1 = rotations("q1", "", "animals")  # all four right
    q2 = rotations("q2", "", "animals")  # three of four right
    q3 = rotations("q3", "", "other")  # one rotation's prediction failed
    items = q1 + q2 + q3
    preds = [pred(i.question_id, f"({i.reference})") for i in q1]
    preds += [pred(i.question_id, f"({i.reference})") for i in q2[:3]] + [pred(q2[3].question_id, "(A)")]
    assert q2[3].reference != "A"
    preds += [pred(i.question_id, f"({i.reference})") for i in q3[:3]] + [
        pred(q3[3].question_id, "", "http_500")
    ]
    scorer = CircularChoice()
    scores = scorer.score(items, preds)
    result = scorer.aggregate(items, scores)
    assert result.overall == pytest.approx(50.0, abs=1e-9)  # q1 right, q2 wrong, q3 excluded
    assert result.n == 2 and result.excluded == {"rotation_excluded": 1}
    assert result.by_category == pytest.approx({"animals": 50.0}, abs=1e-9)
    assert result.details["per_item_accuracy"] == pytest.approx(100 * 10 / 11, abs=1e-9)
    assert result.details["items_excluded"] == {"prediction_failed": 1}


def test_an_unparsable_rotation_fails_its_group():
    q = rotations("q", "")
    preds = [pred(i.question_id, f"{i.reference}") for i in q[:3]] + [pred(q[3].question_id, "no idea")]
    scorer = CircularChoice()
    scores = scorer.score(q, preds)
    result = scorer.aggregate(q, scores)
    assert result.overall == 0.0 and result.details["unparsable"] == 1

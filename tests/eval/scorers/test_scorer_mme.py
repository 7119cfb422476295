"""MME on a small hand-made set: acc, acc+ per category, perception and cognition totals by hand."""

import pytest
from scorer_cases import item, pred

from polyvlm.eval.scorers.mme import MME


def image(category: str, name: str, answers: tuple[str, str], failed: bool = False):
    """One image's two questions (gold yes, then no) and the model's answers."""
    items = [
        item(f"{name}-1", "Yes", category=category, group=name),
        item(f"{name}-2", "No", category=category, group=name),
    ]
    preds = [pred(f"{name}-1", answers[0]), pred(f"{name}-2", answers[1], "timeout" if failed else "")]
    return items, preds


def test_mme_by_hand():
    parts = [
        image("existence", "e1", ("Yes", "No")),  # both right
        image("existence", "e2", ("Yes", "Yes")),  # one right
        image("OCR", "o1", ("yes", "no")),
        image("OCR", "o2", ("no", "no")),
        image("OCR", "o3", ("yes", ""), failed=True),  # excluded from acc and acc+
        image("Commonsense Reasoning", "c1", ("Yes", "No")),
        image("Commonsense Reasoning", "c2", ("unsure", "No")),  # unparsable: wrong
    ]
    items = [i for p in parts for i in p[0]]
    preds = [x for p in parts for x in p[1]]
    scorer = MME()
    scores = scorer.score(items, preds)
    result = scorer.aggregate(items, scores)
    tol = 1e-9
    assert result.details["acc"] == pytest.approx(
        {"existence": 75.0, "ocr": 75.0, "commonsense_reasoning": 75.0}, abs=tol
    )
    assert result.details["acc_plus"] == pytest.approx(
        {"existence": 50.0, "ocr": 50.0, "commonsense_reasoning": 50.0}, abs=tol
    )
    assert result.by_category["existence"] == pytest.approx(125.0, abs=tol)
    assert result.details["perception"] == pytest.approx(250.0, abs=tol)  # existence + ocr
    assert result.details["cognition"] == pytest.approx(125.0, abs=tol)
    assert result.overall == pytest.approx(250.0, abs=tol)
    assert result.excluded == {"prediction_failed": 1} and result.details["unparsable"] == 1
    assert result.ci_low <= result.overall <= result.ci_high
    total = MME(headline="total").aggregate(items, scores)
    assert total.overall == pytest.approx(375.0, abs=tol)

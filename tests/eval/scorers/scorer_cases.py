"""Small builders for scorer tests: items and predictions written inline, one line each."""

from __future__ import annotations

from typing import Any

from polyvlm.eval.items import EvalItem, Prediction


def item(qid: str, reference: Any = None, **fields: Any) -> EvalItem:
    """An item of the test task with the given reference and fields."""
    task, prompt = fields.pop("task", "test"), fields.pop("prompt", "q")
    return EvalItem(question_id=qid, task=task, prompt=prompt, reference=reference, **fields)


def pred(qid: str, text: str = "", error: str = "") -> Prediction:
    """A prediction (a failed one when `error` is set)."""
    return Prediction(question_id=qid, text=text, error=error)


def run(scorer: Any, cases: list[tuple[Any, str]], seed: int = 0):
    """Score (item, answer) pairs and aggregate: (per-item scores, metric result)."""
    items = [i for i, _ in cases]
    preds = [pred(i.question_id, text) for i, text in cases]
    scores = scorer.score(items, preds)
    return scores, scorer.aggregate(items, scores, seed=seed)

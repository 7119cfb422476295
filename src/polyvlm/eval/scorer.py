"""The Scorer contract and its registry: one file per scorer under eval/scorers/."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from polyvlm.clients.chat import ChatClient
from polyvlm.core.registry import Registry
from polyvlm.eval.items import EvalItem, ItemScore, Prediction


@dataclass(frozen=True)
class MetricResult:
    """A metric over a task: the headline, its seeded bootstrap 95 % CI, counts, and breakdowns.

    `overall` is None when no item could be scored. `n` counts scored items; `excluded` counts the
    items left out by reason (judge failures are here, never zeros). `by_category` holds the same
    headline per category; `details` whatever else the metric reports (llm-jp-eval-mm writes it as
    `details` in evaluation.jsonl).
    """

    metric: str
    overall: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


class Scorer:
    """Turns predictions into per-item scores, then into a MetricResult with a confidence interval.

    Subclasses set `name` (the metric's name in outputs) and, when they ask an LLM judge,
    `needs_judge = True`; they receive the judge client in `score`.
    """

    name: ClassVar[str] = ""
    needs_judge: ClassVar[bool] = False
    # the range the headline lives on, so a leaderboard draws each metric on its own scale (a judge's 4 on
    # 1-5 is not a full bar); most headlines are percentages
    score_range: ClassVar[tuple[float, float]] = (0.0, 100.0)

    def score(
        self,
        items: Sequence[EvalItem],
        predictions: Sequence[Prediction],
        judge: ChatClient | None = None,
    ) -> list[ItemScore]:
        """Score each item (same order as `items`); an unscorable item gets value None and a reason."""
        raise NotImplementedError

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """Combine per-item scores into the headline with a seeded bootstrap 95 % CI."""
        raise NotImplementedError


SCORERS = Registry("scorer")  # name -> Scorer subclass
register_scorer = SCORERS.add  # class decorator: make a scorer available by its `name`

"""The scale a leaderboard draws each metric on: its scorer's declared range (`Scorer.score_range`), widened
to hold every value shown (a judge's relative score can pass 100 %), and whether the metric is judged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from polyvlm.eval.registry import load_builtin_scorers


@dataclass(frozen=True)
class MetricScale:
    """Where a metric's bars start and end, and whether an LLM judge gives it."""

    low: float
    high: float
    judged: bool = False

    def label(self) -> str:
        """The scale in words, e.g. "scale 1-5"."""
        return f"scale {self.low:g}-{self.high:g}"

    def fraction(self, value: float) -> float:
        """How far along the scale `value` lies, 0 at `low` and 1 at `high`."""
        return (value - self.low) / (self.high - self.low) if self.high > self.low else 0.0


def metric_scale(metric: str, values: Iterable[float | None] = ()) -> MetricScale:
    """The metric's scale: its scorer's range (0-100 for a scorer not installed here), widened to the values."""
    scorer = load_builtin_scorers().get(metric)
    low, high = scorer.score_range if scorer is not None else (0.0, 100.0)
    shown = [v for v in values if v is not None]
    return MetricScale(
        low=min([low, *shown]),
        high=max([high, *shown]),
        judged=bool(scorer is not None and scorer.needs_judge),
    )

"""A recipe cut at its aggregates: each phase is the steps between two aggregates."""

from __future__ import annotations

from dataclasses import dataclass

from polyvlm.core.recipe import Recipe, segments
from polyvlm.core.step import Aggregate, Step


@dataclass
class Phase:
    """Steps between two aggregates: the aggregate applied first (if any), the steps, the one observed after."""

    index: int
    apply: Aggregate | None
    steps: list[Step]
    observe: Aggregate | None

    @property
    def labels(self) -> list[str]:
        """Labels of the steps that count rows in this phase, in order."""
        return ([self.apply.label] if self.apply else []) + [s.label for s in self.steps]


def phases(recipe: Recipe) -> list[Phase]:
    """The recipe cut at its aggregates."""
    segs = segments(recipe.steps)
    return [
        Phase(i, agg, steps, segs[i + 1][0] if i + 1 < len(segs) else None)
        for i, (agg, steps) in enumerate(segs)
    ]


def step_order(recipe: Recipe) -> list[tuple[str, str]]:
    """(label, name) of every step in recipe order."""
    return [(s.label, s.name) for s in recipe.steps]

"""Steps' counters per unit: a worker runs many units and a step's counters only grow, so a unit takes the growth."""

from __future__ import annotations

from polyvlm.core.step import Step


def metrics_before(steps: list[Step]) -> dict[str, dict[str, float]]:
    """Each step's counters now, set up first: they are per process, and a client is shared by units."""
    for step in steps:
        step.ensure_setup()
    return {s.label: s.metrics() for s in steps}


def metrics_growth(steps: list[Step], before: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """How much each step's counters grew since `before` (workers run many units: counters are cumulative)."""
    out = {}
    for step in steps:
        start = before.get(step.label, {})
        grown = {k: v - start.get(k, 0) for k, v in step.metrics().items() if v - start.get(k, 0)}
        if grown:
            out[step.label] = grown
    return out

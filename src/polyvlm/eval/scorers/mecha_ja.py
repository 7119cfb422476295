"""MECHA-ja's metric (llm-jp-eval-mm metrics/mecha_ja_scorer.py): 1 when the answer letter is contained in
the answer, as is; the headline is the mean over every item (every rotation of the options when the task
yields them) × 100, with a bootstrap 95 % CI.

`details` carries the anchor's breakdown, × 100: `Factoid` / `Non-Factoid` (`meta["answer_type"]` 0 / 1),
`with_background` / `without_background` (`meta["background_text"]` non-empty or not), and the same five
figures per rotation under `rot_<i>` (the `_rot<i>` suffix of the question id; `rot_no_rot` without one).
Unlike the anchor, a breakdown with no item is left out rather than reported as 0.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import MetricResult, register_scorer
from polyvlm.eval.scorers.itemwise import mean_result
from polyvlm.eval.scorers.substring import SubstringAsWritten

_ROTATION = re.compile(r"(.*)_rot(\d+)$")


def rotation_of(question_id: str) -> str:
    """The rotation number of an id ending in `_rot<i>`, else "no_rot" (the anchor's rule)."""
    m = _ROTATION.match(question_id)
    return m.group(2) if m else "no_rot"


def breakdown(pairs: Sequence[tuple[EvalItem, float]], scale: float) -> dict[str, float]:
    """overall, Factoid, Non-Factoid, with_background, without_background of (item, value) pairs."""
    groups: dict[str, list[float]] = defaultdict(list)
    for item, value in pairs:
        groups["overall"].append(value)
        factoid = str(item.meta.get("answer_type", "")) in ("0", "Factoid")
        groups["Factoid" if factoid else "Non-Factoid"].append(value)
        background = bool(item.meta.get("background_text"))
        groups["with_background" if background else "without_background"].append(value)
    return {k: scale * float(np.mean(v)) for k, v in groups.items()}


@register_scorer
class MECHAJaMatch(SubstringAsWritten):
    """Containment of the answer letter; breakdowns by answer type, background and rotation."""

    name: ClassVar[str] = "mecha_ja"

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """The mean × 100 with its CI; the anchor's breakdowns, overall and per rotation, in details."""
        result = mean_result(self.name, items, scores, seed=seed, scale=self.scale)
        item_of = {item.question_id: item for item in items}
        pairs = [(item_of[s.question_id], float(s.value)) for s in scores if s.value is not None]
        result.details.update(breakdown(pairs, self.scale))
        rotations: dict[str, list[tuple[EvalItem, float]]] = defaultdict(list)
        for item, value in pairs:
            rotations[rotation_of(item.question_id)].append((item, value))
        for rot, group in sorted(rotations.items()):
            result.details[f"rot_{rot}"] = breakdown(group, self.scale)
        return result

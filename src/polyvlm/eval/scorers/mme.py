"""MME (Fu et al., 2023): per category accuracy and accuracy+, and the perception and cognition totals.

Every MME image carries two yes/no questions (`EvalItem.group` = the image). Per category:
`acc` = % of questions right, `acc+` = % of images with *both* questions right, and the category's
score `acc + acc+` (0-200). Perception is the sum over MME's ten perception categories (0-2000),
cognition over its four cognition categories (0-800), as MME's own calculation script groups them.
Answers are read by `yes_no.parse_yes_no`; one saying neither is wrong and counted
(`details["unparsable"]`). A question whose prediction failed is excluded, and its image with it, from
acc as from acc+ (an image with an unscored question cannot be "both right"; leaving the whole image
out keeps acc and acc+ over the same images).

The headline is the perception total (`headline="cognition"` or `"total"` for the others) with a
bootstrap 95 % CI that resamples images within each category; `by_category` holds each category's
acc + acc+, `details` each category's acc and acc+ and both totals. Category names are matched
case-insensitively with spaces as underscores ("Commonsense Reasoning" = commonsense_reasoning).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from polyvlm.eval.bootstrap import stratified_ci
from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import MetricResult, register_scorer
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, excluded_counts
from polyvlm.eval.scorers.unparsable import unparsable_count
from polyvlm.eval.scorers.yes_no import yes_no_score

PERCEPTION = (
    "existence", "count", "position", "color", "posters",
    "celebrity", "scene", "landmark", "artwork", "ocr",
)  # fmt: skip
COGNITION = ("commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning")


def category_key(name: str) -> str:
    """MME's category name in one spelling: lower case, spaces as underscores."""
    return "_".join(name.lower().split())


def _images_by_category(
    items: Sequence[EvalItem], scores: Sequence[ItemScore]
) -> dict[str, list[list[float]]]:
    """For each category, per image the values of its scored questions (an image with one unscored is dropped)."""
    by_id = {s.question_id: s for s in scores}
    images: dict[tuple[str, str], list[float | None]] = defaultdict(list)
    for item in items:
        score = by_id.get(item.question_id)
        images[(category_key(item.category), item.group or item.question_id)].append(
            None if score is None else score.value
        )
    out: dict[str, list[list[float]]] = defaultdict(list)
    for (category, _), values in images.items():
        if all(v is not None for v in values):
            out[category].append([float(v) for v in values])  # type: ignore[arg-type]
    return out


def category_score(images: list[list[float]]) -> tuple[float, float]:
    """(acc, acc+) in % over a category's images."""
    questions = [v for image in images for v in image]
    acc = 100.0 * float(np.mean(questions))
    acc_plus = 100.0 * float(np.mean([all(v == 1.0 for v in image) for image in images]))
    return acc, acc_plus


@register_scorer
class MME(ItemwiseScorer):
    """MME's acc + acc+ per category and its perception / cognition totals."""

    name: ClassVar[str] = "mme"
    score_range: ClassVar[tuple[float, float]] = (0.0, 2000.0)  # the perception total; cognition is 0-800

    def __init__(self, headline: str = "perception") -> None:
        if headline not in ("perception", "cognition", "total"):
            raise ValueError(f"headline must be perception, cognition or total, not {headline!r}")
        self.headline = headline

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """1.0 when the yes/no answer is right, else 0.0 (unparsable marked)."""
        return yes_no_score(item, text)

    def _total(self, per_category: dict[str, list[list[float]]], which: str) -> float:
        names = {"perception": PERCEPTION, "cognition": COGNITION, "total": PERCEPTION + COGNITION}[which]
        return sum(sum(category_score(per_category[c])) for c in names if per_category.get(c))

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """The chosen total with its CI, acc + acc+ per category, both totals in details."""
        per_category = _images_by_category(items, scores)
        figures = {c: category_score(images) for c, images in sorted(per_category.items())}
        names = sorted(per_category)
        headline_names = {"perception": PERCEPTION, "cognition": COGNITION}.get(
            self.headline, PERCEPTION + COGNITION
        )
        strata_names = [c for c in names if c in headline_names]

        def resampled_total(*idx: np.ndarray) -> float:
            resampled = {c: [per_category[c][i] for i in ix] for c, ix in zip(strata_names, idx, strict=True)}
            return self._total(resampled, self.headline)

        low, high = stratified_ci(
            [range(len(per_category[c])) for c in strata_names], resampled_total, seed=seed
        )
        return MetricResult(
            metric=self.name,
            overall=self._total(per_category, self.headline) if strata_names else None,
            ci_low=low,
            ci_high=high,
            n=sum(1 for s in scores if s.value is not None),
            excluded=excluded_counts(scores),
            by_category={c: acc + plus for c, (acc, plus) in figures.items()},
            details={
                "acc": {c: f[0] for c, f in figures.items()},
                "acc_plus": {c: f[1] for c, f in figures.items()},
                "perception": self._total(per_category, "perception"),
                "cognition": self._total(per_category, "cognition"),
                "headline": self.headline,
                "unknown_categories": [c for c in names if c not in PERCEPTION + COGNITION],
                "unparsable": unparsable_count(scores),
            },
        )

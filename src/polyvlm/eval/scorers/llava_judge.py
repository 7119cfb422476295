"""LLaVA-Bench (In-the-Wild and COCO; Liu et al., 2023), English and Japanese: judge-relative score.

The judge scores the reference answer (GPT-4's, as Assistant 1) and the model's answer (Assistant 2) on
1-10 (see relative_judge for the prompts, fields and exclusions). As LLaVA's summarize script does, a
category's figure is `100 · mean(model) / mean(reference)` and the headline the same ratio over all
scored items (not the mean of the categories, which is Heron-Bench's rule). The CI resamples the
(model, reference) pairs together.

The default prompt is the `pairwise` review with the rule of each category from rule.json:
`rules="coco"` uses `conv` / `detail` / `complex` (the context is five captions and object boxes),
`rules="in-the-wild"` uses `llava_bench_conv` / ... (the context is a few sentences), and the default
`rules="auto"` picks per item: COCO's rules for items of a task whose name contains "coco"
(llava-bench-coco, llava-bench-coco-ja, ...), else the in-the-wild ones. `prompt="json"` uses the
JSON judge instead (not comparable with the pairwise figures).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from polyvlm.eval.bootstrap import ratio_ci, ratio_of_means
from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import MetricResult, register_scorer
from polyvlm.eval.scorers.itemwise import excluded_counts
from polyvlm.eval.scorers.judge_calls import judge_failures
from polyvlm.eval.scorers.relative_judge import RelativeJudge, category_pairs


@register_scorer
class LlavaJudge(RelativeJudge):
    """LLaVA-Bench's relative score: per category and over all items, 100 · mean(model) / mean(reference)."""

    name: ClassVar[str] = "llava_judge"

    def __init__(
        self, rules: str = "auto", prompt: str = "pairwise", run: int = 0, prompt_dir: str = ""
    ) -> None:
        if rules not in ("auto", "in-the-wild", "coco"):
            raise ValueError(f"rules must be 'auto', 'in-the-wild' or 'coco', not {rules!r}")
        self.rules_variant = rules
        super().__init__(prompt=prompt, run=run, prompt_dir=prompt_dir)

    def rules_name(self) -> str:
        """`auto`, `coco` or `in-the-wild`: which rule.json entries the pairwise prompt uses."""
        return self.rules_variant

    def rule_key(self, item: EvalItem) -> str:
        """`<category>` for COCO, `llava_bench_<category>` for In-the-Wild."""
        coco = self.rules_variant == "coco" or (self.rules_variant == "auto" and "coco" in item.task)
        return item.category if coco else f"llava_bench_{item.category}"

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """The ratio over all scored items with its CI, and per category."""
        pairs = category_pairs(items, scores)
        model = np.concatenate([m for m, _ in pairs.values()]) if pairs else np.array([])
        reference = np.concatenate([r for _, r in pairs.values()]) if pairs else np.array([])
        low, high = ratio_ci(model, reference, seed=seed)
        by_category = {c: r for c, p in pairs.items() if c and (r := ratio_of_means(*p)) is not None}
        return MetricResult(
            metric=self.name,
            overall=ratio_of_means(model, reference) if len(model) else None,
            ci_low=low,
            ci_high=high,
            n=len(model),
            excluded=excluded_counts(scores),
            by_category=by_category,
            details={
                "model_mean": float(np.mean(model)) if len(model) else None,
                "reference_mean": float(np.mean(reference)) if len(reference) else None,
                "judge_failures": judge_failures(scores),
                **self.judge_details(),
            },
        )

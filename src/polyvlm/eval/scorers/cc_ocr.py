"""CC-OCR's OCR metric for Japanese, as llm-jp-eval-mm computes it (metrics/cc_ocr_scorer.py, after CC-OCR's
own evaluator): both texts lose tabs, newlines, "###" and "***", whitespace runs collapse and then every
space goes (character level), letters are lower-cased; the tokens are the characters. Per item the F1 of
the character bags (`right = Σ min(count in reference, count in answer)`, recall `right / len(reference)`,
precision `right / len(answer)`, each denominator + 1e-9 as in the anchor); the headline is the mean
per-item F1 × 100 with a bootstrap 95 % CI. `details` adds the anchor's micro and macro recall, precision
and F1 (× 100). Tested on the anchor's own examples: リンゴ バナナ オレンジ vs リンゴ バ ナナ → 0.75,
猫 犬 vs 猫 犬 鳥 → 0.8, micro F1 16/21.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import MetricResult, register_scorer
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, mean_result, references_of

EPS = 1e-9  # the anchor's guard, kept so figures match to the last digit


def ocr_chars(text: str) -> list[str]:
    """The anchor's character tokens: markers and whitespace removed, lower-cased."""
    text = str(text).strip().replace("\t", " ").replace("\n", " ").replace("###", "").replace("***", "")
    text = re.sub(r"\s+", " ", text).replace(" ", "")
    return [c for c in text.lower() if c]


def matched(reference: list[str], answer: list[str]) -> int:
    """How many tokens the two bags share (each counted at most as often as in both)."""
    return sum((Counter(reference) & Counter(answer)).values())


def recall_precision_f1(right: int, n_ref: int, n_ans: int) -> tuple[float, float, float]:
    """The anchor's recall, precision and F1 of `right` tokens shared (each 0 when a side is empty)."""
    recall = right / (n_ref + EPS) if n_ref > 0 else 0.0
    precision = right / (n_ans + EPS) if n_ans > 0 else 0.0
    f1 = 2 * recall * precision / (recall + precision + EPS) if recall + precision > 0 else 0.0
    return recall, precision, f1


def f1_of(right: int, n_ref: int, n_ans: int) -> float:
    """The anchor's per-sample F1 (0 when either side is empty)."""
    return recall_precision_f1(right, n_ref, n_ans)[2]


def micro_macro(counts: Sequence[tuple[int, int, int]]) -> dict[str, float]:
    """The anchor's macro (mean of per-item) and micro (pooled) recall, precision and F1 of
    (matched, reference length, answer length) triples."""
    if not counts:
        return {}
    recalls = [right / (n_ref + EPS) for right, n_ref, _ in counts]
    precisions = [right / (n_ans + EPS) for right, _, n_ans in counts]
    f1s = [2 * r * p / (r + p + EPS) for r, p in zip(recalls, precisions, strict=True)]
    recall, precision, f1 = recall_precision_f1(*(sum(c[k] for c in counts) for k in range(3)))
    n = len(counts) + EPS
    return {"macro_recall": sum(recalls) / n, "macro_precision": sum(precisions) / n,
            "macro_f1_score": sum(f1s) / n, "micro_recall": recall, "micro_precision": precision,
            "micro_f1_score": f1}  # fmt: skip


@register_scorer
class CCOCRScore(ItemwiseScorer):
    """Character-bag F1 of the transcription against the reference text (CC-OCR, Japanese rows)."""

    name: ClassVar[str] = "cc_ocr"
    scale: ClassVar[float] = 100.0

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """The per-item F1 in [0, 1]; no reference is excluded (`no_reference`)."""
        refs = references_of(item)
        if not refs or not refs[0]:
            return ItemScore(item.question_id, None, "no_reference")
        ref, ans = ocr_chars(refs[0]), ocr_chars(text)
        right = matched(ref, ans)
        counts = {"matched": right, "reference_chars": len(ref), "answer_chars": len(ans)}
        return ItemScore(item.question_id, f1_of(right, len(ref), len(ans)), detail=counts)

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """Mean per-item F1 × 100 with its CI; micro / macro figures (× 100) in details."""
        result = mean_result(self.name, items, scores, seed=seed, scale=self.scale)
        counts = [(s.detail["matched"], s.detail["reference_chars"], s.detail["answer_chars"])
                  for s in scores if s.value is not None and "matched" in s.detail]  # fmt: skip
        result.details.update({k: 100.0 * v for k, v in micro_macro(counts).items()})
        return result

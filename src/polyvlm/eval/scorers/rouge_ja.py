"""ROUGE-L for Japanese (and other languages): the F-measure of the longest common subsequence of words.

Per item: `F = 2·P·R / (P + R)` with `P = LCS / len(prediction)`, `R = LCS / len(reference)` over the
words of `word_tokens.words` (Japanese: emoji removed, NFKC, whitespace collapsed, MeCab words,
punctuation kept), × 100; the best over several references. The headline is the mean over items with a
bootstrap 95 % CI — the figure llm-jp-eval-mm reports as `rougel` for JA-VLM-Bench-In-the-Wild and
JA-VG-VQA-500. It reproduces the published examples: for the reference 白色, 車は白いです。 scores 0,
車は白色です。 33.3 and 白色 100 (LLM-jp-3 VILA, Figure 2); たかしが公園で遊んでいた。 against
たかしが公園にいたようだ。 66.67; 池のほとりです。 against ここは湖の岸です。 50.0.

The LCS is computed by rapidfuzz (bit-parallel C++) on word ids, and the tagger is made once per
process: no process pool, no per-item tagger (what makes the anchors' way slow; see
benchmarks/eval_scoring.py). An empty prediction scores 0 (it is an answer, a wrong one); an item whose
prediction failed is excluded (`prediction_failed`).
"""

from __future__ import annotations

from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, references_of
from polyvlm.eval.scorers.scorer_packages import needed
from polyvlm.eval.scorers.word_tokens import language_of, words


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two word lists."""
    ids: dict[str, int] = {}
    # exact word ids (not Python hashes) so two different words can never collide
    a_ids = [ids.setdefault(w, len(ids)) for w in a]
    b_ids = [ids.setdefault(w, len(ids)) for w in b]
    return int(needed("rapidfuzz.distance").LCSseq.similarity(a_ids, b_ids))


def rouge_l(reference: list[str], prediction: list[str]) -> float:
    """ROUGE-L F-measure × 100 of two word lists (0 when either is empty)."""
    if not reference or not prediction:
        return 0.0
    lcs = lcs_length(reference, prediction)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(prediction), lcs / len(reference)
    return 100.0 * 2 * precision * recall / (precision + recall)


def rouge_l_text(reference: str, prediction: str, language: str = "") -> float:
    """ROUGE-L F-measure × 100 of two texts in `language` (when empty: detected on both together, so
    the two are always cut the same way)."""
    lang = language_of(reference + prediction, language)
    return rouge_l(words(reference, lang), words(prediction, lang))


@register_scorer
class RougeL(ItemwiseScorer):
    """ROUGE-L F × 100 per item (max over references); `language` overrides the items' own."""

    name: ClassVar[str] = "rougel"
    scale: ClassVar[float] = 1.0  # per-item values are already × 100

    def __init__(self, language: str = "") -> None:
        self.language = language

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """ROUGE-L of the answer; an item without a reference is excluded (`no_reference`)."""
        refs = references_of(item)
        if not refs:
            return ItemScore(item.question_id, None, "no_reference")
        lang = self.language or item.language
        return ItemScore(item.question_id, max(rouge_l_text(r, text, lang) for r in refs))

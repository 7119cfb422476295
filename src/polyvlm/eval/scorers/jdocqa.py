"""JDocQA's metric, as llm-jp-eval-mm scores it (metrics/jdocqa_scorer.py): per answer type.

- open-ended (answer_type 3): sentence BLEU / 100 over MeCab words — sacrebleu's `sentence_bleu` with
  `tokenize="ja-mecab"` (MeCab + IPAdic), `smooth_method="exp"`, `use_effective_order=False`, no
  lower-casing, exactly the anchor's call;
- yes/no (0), factoid (1), numerical (2): 1 when the normalised reference is contained in the normalised
  answer, else 0. The normalisation is the anchor's: drop です, 。, 、 and spaces, strip, then NFKC.
  (The issue calls this "exact match"; the anchor's code tests containment, and that is what is done here.)

Per item a value in [0, 1]; the headline is the mean over all items × 100 (the anchor's `overall`, ×100), with
a bootstrap 95 % CI; `by_category` holds each type's mean (`yesno_exact`, `factoid_exact`,
`numerical_exact`, `open-ended_bleu`, × 100). The item's type is `meta["answer_type"]` (0-3 or its name).
Worked example (tested): reference 東京駅の北側にあります。, answer 東京駅の北にあります。 → n-gram
precisions 7/8, 5/7, 3/6, 1/5, brevity 1, BLEU 0.5.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.itemwise import ItemwiseScorer, references_of
from polyvlm.eval.scorers.scorer_packages import needed

ANSWER_TYPES = {0: "yesno", 1: "factoid", 2: "numerical", 3: "open-ended"}
TYPE_METRIC = {"yesno": "yesno_exact", "factoid": "factoid_exact", "numerical": "numerical_exact",
               "open-ended": "open-ended_bleu"}  # fmt: skip


def answer_type_name(value: object) -> str:
    """The answer type's name from JDocQA's integer code (or the name itself); "" when unknown."""
    if isinstance(value, str) and value in TYPE_METRIC:
        return value
    try:
        return ANSWER_TYPES.get(int(value), "")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""


def jdocqa_normalize(text: str) -> str:
    """The anchor's normalisation: drop です, 。, 、 and spaces, strip, NFKC (in that order)."""
    text = text.replace("です", "").replace("。", "").replace("、", "").replace(" ", "").strip()
    return unicodedata.normalize("NFKC", text)


def bleu_ja(references: list[str], prediction: str) -> float:
    """Sentence BLEU in [0, 1] over MeCab (IPAdic) words, with llm-jp-eval-mm's sacrebleu settings."""
    sacrebleu = needed("sacrebleu")
    # sacrebleu warns on every call that effective_order is off; off is the anchor's setting, on purpose
    logging.getLogger("sacrebleu").setLevel(logging.ERROR)
    score = sacrebleu.sentence_bleu(
        hypothesis=prediction,
        references=references,
        smooth_method="exp",
        smooth_value=0.0,
        tokenize="ja-mecab",
        use_effective_order=False,
        lowercase=False,
    )
    return float(score.score) / 100.0


@register_scorer
class JDocQAScore(ItemwiseScorer):
    """BLEU for open-ended answers, normalised containment for yes/no, factoid and numerical ones."""

    name: ClassVar[str] = "jdocqa"
    scale: ClassVar[float] = 100.0

    def score_text(self, item: EvalItem, text: str) -> ItemScore:
        """A value in [0, 1]; no reference or an unknown answer type is excluded with its reason."""
        refs = [r for r in references_of(item) if r]
        if not refs:
            return ItemScore(item.question_id, None, "no_reference")
        kind = answer_type_name(item.meta.get("answer_type"))
        if not kind:
            return ItemScore(item.question_id, None, "unknown_answer_type")
        if kind == "open-ended":
            return ItemScore(item.question_id, bleu_ja(refs[:1], text), detail={"type": kind})
        hit = jdocqa_normalize(refs[0]) in jdocqa_normalize(text)
        return ItemScore(item.question_id, 1.0 if hit else 0.0, detail={"type": kind})

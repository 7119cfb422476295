"""Judge-relative scoring (LLaVA-Bench, Heron-Bench): the judge scores the reference answer and the
model's answer of each item on 1-10, and a category's score is `100 · mean(model) / mean(reference)`.

Two prompt styles, whose figures are NOT comparable with each other (different instructions, and the
pairwise judge sees both answers side by side while the JSON judge scores each "independently"):

- `pairwise`: LLaVA's / Heron's review — `[Context]`, `[Question]`, `[Assistant 1]` = the reference
  answer, `[Assistant 2]` = the model's, then the category's rule from `llava_rules.json` (Heron's
  prompt file adds the one closing instruction Heron's eval_heron_bench.py sends); the reply's first
  line holds the two scores ("8 7");
- `json`: llm-jp-eval-mm's Heron-Bench judge — the reply is `{"score_gpt": int, "score": int}`.

Fields read from the item: `meta["context"]` (the image's description the judge reads; "" when
absent), `meta["question"]` (else `EvalItem.prompt`), `meta["reference_answer"]` (else the first of
`EvalItem.reference`), and `EvalItem.category` (conv / detail / complex). Per item the value is the
model's score and `detail` keeps `reference_score`. A failed call or an unreadable reply excludes the
item (`judge_call_failed` / `judge_unparsable`), counted, never a 0 or a -1 averaged in.
Subclasses decide how categories combine into the headline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.judge_prompt import load_judge_prompt, load_judge_rules
from polyvlm.eval.scorers.judge_calls import JudgeScorer, judge_params, judge_question, judge_reference
from polyvlm.eval.scorers.judge_replies import parse_first_line_pair, parse_score_json


def category_pairs(
    items: Sequence[EvalItem], scores: Sequence[ItemScore]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per category, the (model scores, reference scores) of the items the judge scored."""
    category = {item.question_id: item.category for item in items}
    pairs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for s in scores:
        if s.value is not None:
            pairs[category.get(s.question_id, "")].append((s.value, float(s.detail["reference_score"])))
    return {c: (np.array([m for m, _ in p]), np.array([r for _, r in p])) for c, p in sorted(pairs.items())}


class RelativeJudge(JudgeScorer):
    """Base of the judge-relative scorers: asks the judge for both scores of each item."""

    max_tokens: ClassVar[int] = 1024
    pairwise_prompt: ClassVar[str] = "judge_pairwise"  # Heron's adds one closing instruction

    def __init__(self, prompt: str = "json", run: int = 0, prompt_dir: str = "") -> None:
        if prompt not in ("json", "pairwise"):
            raise ValueError(f"prompt must be 'json' or 'pairwise', not {prompt!r}")
        self.style, self.run = prompt, run
        if prompt == "json":
            self.prompt = load_judge_prompt("heron_json", directory=prompt_dir)
            self.rules: dict[str, Any] = {}
            self.prompt_name, self.prompt_sha256 = self.prompt.name, self.prompt.sha256
        else:
            self.prompt = load_judge_prompt(self.pairwise_prompt, directory=prompt_dir)
            self.rules, rules_sha = load_judge_rules(directory=prompt_dir)
            self.rules_sha256 = rules_sha
            self.prompt_name = f"{self.prompt.name}+llava_rules:{self.rules_name()}"
            self.prompt_sha256 = f"{self.prompt.sha256}+{rules_sha}"

    def rules_name(self) -> str:
        """Which rules of rule.json the pairwise prompt uses (recorded with the prompt's name)."""
        return "<category>"

    def rule_key(self, item: EvalItem) -> str:
        """The rule.json key for an item: its category (Heron and LLaVA-Bench COCO)."""
        return item.category

    def _rule(self, item: EvalItem) -> str:
        rule = self.rules.get(self.rule_key(item)) or self.rules.get("default")
        return str(rule["prompt"]) if rule else ""

    def prompt_sha256s(self) -> dict[str, str]:
        """The prompt files this scorer sends, by name, with their sha256 (for the manifest)."""
        out = {self.prompt.name: self.prompt.sha256}
        if self.style == "pairwise":
            out["llava_rules"] = self.rules_sha256
        return out

    def _conversation(self, item: EvalItem, answer: str) -> list[dict[str, Any]]:
        return self.prompt.messages(
            context=str(item.meta.get("context", "")),
            question=judge_question(item),
            reference=judge_reference(item),
            answer=answer,
            rule=self._rule(item) if self.style == "pairwise" else "",
        )

    def _read(self, reply: str) -> tuple[float, dict[str, Any]] | None:
        pair = parse_score_json(reply) if self.style == "json" else parse_first_line_pair(reply)
        if pair is None:
            return None
        reference_score, model_score = pair
        return float(model_score), {"reference_score": float(reference_score)}

    def judge_details(self) -> dict[str, Any]:
        """What a report needs to know about the judging: prompt name and sha256, run, parameters."""
        return {
            "judge_prompt": self.prompt_name,
            "judge_prompt_sha256": self.prompt_sha256,
            "judge_run": self.run,
            "judge_params": judge_params(self.run, self.max_tokens),
        }

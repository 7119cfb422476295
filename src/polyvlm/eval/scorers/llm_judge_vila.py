"""LLM-as-a-judge on 1-5, the protocol of the LLM-jp-3 VILA paper (Table 8; reply "Score: X").

Used by JA-VLM-Bench-In-the-Wild and JA-VG-VQA-500 beside ROUGE-L. For each item the judge sees the
question, the reference answer and the model's answer (text only) and replies "Score: X" with X in
1-5; temperature 0 and a fixed seed (see judge_calls). Fields read from the item:

- question: `meta["question"]` when the task sets it (the bare question, without answer-format
  instructions), else `EvalItem.prompt`;
- reference: `meta["reference_answer"]` when set, else the first of `EvalItem.reference`.

Exclusions, each counted in `MetricResult.excluded` and `details["judge_failures"]`, never a 0:
`judge_call_failed` (the call failed after the client's retries), `judge_unparsable` (no single
in-range "Score: X" in the reply; see judge_replies.parse_score_line), and, before any call,
`prediction_failed` / `no_prediction` / `no_reference`.

The headline is the mean score (1-5) with a bootstrap 95 % CI. `run` (0, 1, ...) repeats the judging
as distinct requests for `--judge-runs N`; combine the N results with `eval.judge_runs.combine_runs`
(the VILA paper averaged 5 runs). The prompt's name and sha256 are in `details`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.judge_prompt import load_judge_prompt
from polyvlm.eval.scorer import MetricResult, register_scorer
from polyvlm.eval.scorers.itemwise import mean_result
from polyvlm.eval.scorers.judge_calls import (
    JudgeScorer,
    judge_failures,
    judge_params,
    judge_question,
    judge_reference,
)
from polyvlm.eval.scorers.judge_replies import parse_score_line


@register_scorer
class VilaJudge(JudgeScorer):
    """The 1-5 LLM judge of LLM-jp-3 VILA; `run` makes repeated judgings distinct requests."""

    name: ClassVar[str] = "llm_judge_vila"
    score_range: ClassVar[tuple[float, float]] = (1.0, 5.0)
    max_tokens: ClassVar[int] = 256

    def __init__(self, run: int = 0, prompt: str = "vila_judge", prompt_dir: str = "") -> None:
        self.run = run
        self.prompt = load_judge_prompt(prompt, directory=prompt_dir)

    def _conversation(self, item: EvalItem, answer: str) -> list[dict[str, str]]:
        return self.prompt.messages(
            question=judge_question(item), reference=judge_reference(item), answer=answer
        )

    def _read(self, reply: str) -> tuple[float, dict[str, object]] | None:
        value = parse_score_line(reply)
        return None if value is None else (float(value), {})

    def prompt_sha256s(self) -> dict[str, str]:
        """The prompt files this scorer sends, by name, with their sha256 (for the manifest)."""
        return {self.prompt.name: self.prompt.sha256}

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """The mean 1-5 score with its CI; judge failures, prompt and run in details."""
        result = mean_result(self.name, items, scores, seed=seed, scale=1.0)
        result.details.update(
            judge_failures=judge_failures(scores),
            judge_prompt=self.prompt.name,
            judge_prompt_sha256=self.prompt.sha256,
            judge_run=self.run,
            judge_params=judge_params(self.run, self.max_tokens),
        )
        return result

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

from typing import ClassVar

from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.judge_replies import parse_score_line
from polyvlm.eval.scorers.prompted_judge import PromptedJudge


@register_scorer
class VilaJudge(PromptedJudge):
    """The 1-5 LLM judge of LLM-jp-3 VILA; `run` makes repeated judgings distinct requests."""

    name: ClassVar[str] = "llm_judge_vila"
    default_prompt: ClassVar[str] = "vila_judge"
    score_range: ClassVar[tuple[float, float]] = (1.0, 5.0)
    max_tokens: ClassVar[int] = 256

    def _read(self, reply: str) -> tuple[float, dict[str, object]] | None:
        value = parse_score_line(reply)
        return None if value is None else (float(value), {})

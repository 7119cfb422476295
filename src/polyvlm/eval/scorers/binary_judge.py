"""The binary LLM grader of recent Japanese suites: "is the answer correct: yes / no".

llm-jp/simple-evals-mm (JAMMEval) grades JGraphQA, BusinessSlideVQA and its Refined sets this way: the
judge sees the question, the model's response and the correct answer (text only), extracts the final
answer, reasons, and ends with "correct: yes" or "correct: no"; yes is 1, no is 0. The prompt
(`prompts/en/eval/binary_judge.*`) follows that harness's HLE-derived template; its sha256 is recorded.

Same counted-failure rules as the other judges (judge_calls): a call that fails after the client's retries
is `judge_call_failed`, a reply without exactly one verdict (none, or a yes beside a no) is
`judge_unparsable` — left out of the mean and counted in `details["judge_failures"]`, never a 0 (the
anchor too leaves an ungraded item out). The headline is the percentage judged correct with a bootstrap
95 % CI; temperature 0, the run's seed.
"""

from __future__ import annotations

from typing import ClassVar

from polyvlm.eval.scorer import register_scorer
from polyvlm.eval.scorers.judge_replies import parse_correct_verdict
from polyvlm.eval.scorers.prompted_judge import PromptedJudge


@register_scorer
class BinaryJudge(PromptedJudge):
    """1 when the judge says the answer is correct, 0 when it says it is not; `run` repeats judging."""

    name: ClassVar[str] = "binary_judge"
    default_prompt: ClassVar[str] = "binary_judge"
    scale: ClassVar[float] = 100.0  # the headline is the percentage judged correct
    max_tokens: ClassVar[int] = 1024  # the judge reasons before its verdict

    def _read(self, reply: str) -> tuple[float, dict[str, object]] | None:
        verdict = parse_correct_verdict(reply)
        return None if verdict is None else (1.0 if verdict else 0.0, {})

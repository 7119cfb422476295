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
from polyvlm.eval.scorers.judge_replies import parse_correct_verdict


@register_scorer
class BinaryJudge(JudgeScorer):
    """1 when the judge says the answer is correct, 0 when it says it is not; `run` repeats judging."""

    name: ClassVar[str] = "binary_judge"
    max_tokens: ClassVar[int] = 1024  # the judge reasons before its verdict

    def __init__(self, run: int = 0, prompt: str = "binary_judge", prompt_dir: str = "") -> None:
        self.run = run
        self.prompt = load_judge_prompt(prompt, directory=prompt_dir)

    def _conversation(self, item: EvalItem, answer: str) -> list[dict[str, str]]:
        return self.prompt.messages(
            question=judge_question(item), reference=judge_reference(item), answer=answer
        )

    def _read(self, reply: str) -> tuple[float, dict[str, object]] | None:
        verdict = parse_correct_verdict(reply)
        return None if verdict is None else (1.0 if verdict else 0.0, {})

    def prompt_sha256s(self) -> dict[str, str]:
        """The prompt files this scorer sends, by name, with their sha256 (for the manifest)."""
        return {self.prompt.name: self.prompt.sha256}

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """The percentage judged correct with its CI; judge failures, prompt and run in details."""
        result = mean_result(self.name, items, scores, seed=seed, scale=100.0)
        result.details.update(
            judge_failures=judge_failures(scores),
            judge_prompt=self.prompt.name,
            judge_prompt_sha256=self.prompt.sha256,
            judge_run=self.run,
            judge_params=judge_params(self.run, self.max_tokens),
        )
        return result

"""A judge asked through one prompt file filled with the question, the reference and the answer; the
headline is the mean of what is read from its replies (the VILA 1-5 judge, the binary yes / no grader).

A subclass names its prompt file (`default_prompt`), how a reply is read (`_read`) and the headline's
`scale`; the batch, the counted failures and the run's seed are JudgeScorer's. `details` carries the
judge failures, the prompt's name and sha256, the run and the request parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from polyvlm.eval.items import EvalItem, ItemScore
from polyvlm.eval.judge_prompt import load_judge_prompt
from polyvlm.eval.scorer import MetricResult
from polyvlm.eval.scorers.itemwise import mean_result
from polyvlm.eval.scorers.judge_calls import (
    JudgeScorer,
    judge_failures,
    judge_params,
    judge_question,
    judge_reference,
)


class PromptedJudge(JudgeScorer):
    """Base of the judges that send one prompt (question, reference, answer) and average the readings."""

    default_prompt: ClassVar[str] = ""  # the prompt file's name when none is given
    scale: ClassVar[float] = 1.0

    def __init__(self, run: int = 0, prompt: str = "", prompt_dir: str = "") -> None:
        self.run = run
        self.prompt = load_judge_prompt(prompt or self.default_prompt, directory=prompt_dir)

    def _conversation(self, item: EvalItem, answer: str) -> list[dict[str, str]]:
        return self.prompt.messages(
            question=judge_question(item), reference=judge_reference(item), answer=answer
        )

    def prompt_sha256s(self) -> dict[str, str]:
        """The prompt files this scorer sends, by name, with their sha256 (for the manifest)."""
        return {self.prompt.name: self.prompt.sha256}

    def aggregate(
        self, items: Sequence[EvalItem], scores: Sequence[ItemScore], seed: int = 0
    ) -> MetricResult:
        """`scale ·` the mean reading with its CI; judge failures, prompt and run in details."""
        result = mean_result(self.name, items, scores, seed=seed, scale=self.scale)
        result.details.update(
            judge_failures=judge_failures(scores),
            judge_prompt=self.prompt.name,
            judge_prompt_sha256=self.prompt.sha256,
            judge_run=self.run,
            judge_params=judge_params(self.run, self.max_tokens),
        )
        return result

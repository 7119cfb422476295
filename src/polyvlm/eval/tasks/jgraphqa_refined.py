"""JGraphQA-Refined (JAMMEval, llm-jp): JGraphQA re-checked by annotators. Table (test split): `original_id, question, answer, image`. The question and the instruction to answer accurately and briefly go to the model; graded yes / no
by the binary LLM judge (`binary_judge`), as llm-jp/simple-evals-mm does."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.graded_qa import graded_items


@register_task
class JGraphQARefined(Task):
    """jgraphqa-refined: one image, a short Japanese answer, judged correct or not."""

    name = "jgraphqa-refined"
    description = "JGraphQARefined: Japanese short-answer questions on one image; binary LLM judge"
    languages = ("ja",)
    default_metrics = ("binary_judge",)
    hub_name = "llm-jp/JGraphQA-Verified"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row, id = `original_id`."""
        return graded_items(self.name, source, "test", "original_id")

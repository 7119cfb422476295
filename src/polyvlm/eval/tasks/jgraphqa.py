"""JGraphQA (llm-jp): questions on graphs and tables from Japanese companies' IR documents. Hub table (train split, the one simple-evals-mm evaluates): `id, question, answer, image`. The question and the instruction to answer accurately and briefly go to the model; graded yes / no
by the binary LLM judge (`binary_judge`), as llm-jp/simple-evals-mm does."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.graded_qa import graded_items


@register_task
class JGraphQA(Task):
    """jgraphqa: one image, a short Japanese answer, judged correct or not."""

    name = "jgraphqa"
    description = "JGraphQA: Japanese short-answer questions on one image; binary LLM judge"
    languages = ("ja",)
    default_metrics = ("binary_judge",)
    hub_name = "llm-jp/JGraphQA"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row, id = `id`."""
        return graded_items(self.name, source, "train", "id")

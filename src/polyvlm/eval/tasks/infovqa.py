"""InfographicVQA (Mathew et al. 2022): questions on infographics, scored by ANLS over the accepted answers.

Hub table columns (lmms-lab/DocVQA, config `InfographicVQA`, validation): `questionId, question, answers`
(a list), `answer_type` (a list: single span, multi-span, question span, non-extractive), `image,
image_url, operation/reasoning, ocr, data_split`. The first answer type is the item's category."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.docvqa import answers_of
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.short_answer import short_answer_prompt
from polyvlm.eval.tasks.table_rows import column, read_rows


@register_task
class InfoVQA(Task):
    """InfographicVQA validation."""

    name = "infovqa"
    description = "InfographicVQA infographics, ANLS over the accepted answers, by answer type"
    languages = ("en",)
    default_metrics = ("anls",)
    hub_name = "lmms-lab/DocVQA"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row, keyed by `questionId`."""
        rows, base = read_rows(source, split="validation", config="InfographicVQA")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            types = list(row.get("answer_type") or [])
            yield EvalItem(
                question_id=str(column(row, "questionId", where)),
                task=self.name,
                prompt=short_answer_prompt(str(column(row, "question", where))),
                images=(image_value(column(row, "image", where), base, where),),
                reference=answers_of(row, where),
                category=str(types[0]) if types else "",
                language="en",
                meta={"answer_type": types, "operation/reasoning": row.get("operation/reasoning")},
            )

"""OK-VQA (Marino et al. 2019): questions that need outside knowledge, scored by VQA accuracy over ten answers.

Hub table columns (lmms-lab/OK-VQA, split val2014): `question_type` (the knowledge category, e.g. `one` =
vehicles and transportation), `confidence, answers` (ten human answers: five annotators, each answer
listed twice as the VQA format wants ten), `answer_type, image_id, question_id, question, image`."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.docvqa import answers_of
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.short_answer import short_answer_prompt
from polyvlm.eval.tasks.table_rows import column, read_rows


@register_task
class OKVQA(Task):
    """OK-VQA val2014."""

    name = "okvqa"
    description = "OK-VQA outside-knowledge questions, VQA accuracy over ten human answers"
    languages = ("en",)
    default_metrics = ("vqa_accuracy",)
    hub_name = "lmms-lab/OK-VQA"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row, keyed by `question_id`; the category is the knowledge category."""
        rows, base = read_rows(source, split="val2014")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            yield EvalItem(
                question_id=str(column(row, "question_id", where)),
                task=self.name,
                prompt=short_answer_prompt(str(column(row, "question", where))),
                images=(image_value(column(row, "image", where), base, where),),
                reference=answers_of(row, where),
                category=str(row.get("question_type") or ""),
                language="en",
            )

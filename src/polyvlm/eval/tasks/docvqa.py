"""DocVQA (Mathew et al. 2021): questions on scanned document pages, scored by ANLS over the accepted answers.

Hub table columns (lmms-lab/DocVQA, config `DocVQA`, validation): `questionId, question, question_types`
(a list), `image, docId, ucsf_document_id, ucsf_document_page_no, answers` (a list: every accepted
answer). The test split has no answers (it is scored by the benchmark's server)."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.scienceqa import listed
from polyvlm.eval.tasks.short_answer import short_answer_prompt
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows


def answers_of(row: dict, where: str) -> tuple[str, ...]:
    """The row's accepted answers (a list cell), at least one."""
    answers = tuple(listed(column(row, "answers", where), where))
    if not answers:
        raise TaskDataError(f"{where}: no answers (the test split is scored by the benchmark's server)")
    return answers


@register_task
class DocVQA(Task):
    """DocVQA validation: one page image per question."""

    name = "docvqa"
    description = "DocVQA document pages, ANLS over the accepted answers"
    languages = ("en",)
    default_metrics = ("anls",)
    hub_name = "lmms-lab/DocVQA"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row, keyed by `questionId`."""
        rows, base = read_rows(source, split="validation", config="DocVQA")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            yield EvalItem(
                question_id=str(column(row, "questionId", where)),
                task=self.name,
                prompt=short_answer_prompt(str(column(row, "question", where))),
                images=(image_value(column(row, "image", where), base, where),),
                reference=answers_of(row, where),
                language="en",
                meta={"question_types": list(row.get("question_types") or []), "docId": row.get("docId")},
            )

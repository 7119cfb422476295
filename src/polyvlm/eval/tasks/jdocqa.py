"""JDocQA (Onami et al., LREC-COLING 2024): questions on Japanese PDF documents, up to four page images per
question. The published table `speed/JDocQA` (as llm-jp-eval-mm loads it): `question_id, question, answer,
answer_type` (0 yes/no, 1 factoid, 2 numerical, 3 open-ended), `image_0 … image_3` (empty past the pages
the question shows), with further metadata columns. The question goes to the model as it is (the anchor's
prompt); scored by `jdocqa`: BLEU over MeCab words for open-ended answers, normalised containment for the
others, per answer type."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.scorers.jdocqa import TYPE_METRIC, answer_type_name
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import images_in
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows

PAGE_COLUMNS = ["image_0", "image_1", "image_2", "image_3"]


@register_task
class JDocQA(Task):
    """JDocQA test set: every page image a question shows, in column order."""

    name = "jdocqa"
    description = (
        "Japanese document QA over 1-4 page images; BLEU (MeCab) for open answers, match for the rest"
    )
    languages = ("ja",)
    default_metrics = ("jdocqa",)
    hub_name = "speed/JDocQA"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row; the category is the answer type's metric (`open-ended_bleu`, …)."""
        rows, base = read_rows(source, split="test")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            kind = answer_type_name(column(row, "answer_type", where))
            if not kind:
                raise TaskDataError(f"{where}: answer_type {row['answer_type']!r} is not 0-3")
            images = images_in(row, PAGE_COLUMNS, base, where)
            if not images:
                raise TaskDataError(f"{where}: no page image in {', '.join(PAGE_COLUMNS)}")
            question = str(column(row, "question", where))
            yield EvalItem(
                question_id=str(column(row, "question_id", where)),
                task=self.name,
                prompt=question,
                images=images,
                reference=str(column(row, "answer", where)),
                category=TYPE_METRIC[kind],
                language="ja",
                meta={"answer_type": kind, "question": question},
            )

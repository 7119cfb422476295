"""The layout of the short-answer Japanese sets llm-jp/simple-evals-mm grades with the binary LLM judge
(JGraphQA, JGraphQA-Refined, BusinessSlideVQA): one `image`, `question`, `answer`, an id column; the
prompt is the question and the harness's instruction to answer accurately and briefly."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import column, read_rows

ANSWER_BRIEFLY = "\n上記の質問に対して、正確かつ簡潔に答えてください。"


def graded_items(task: str, source: str, split: str, id_column: str) -> Iterator[EvalItem]:
    """One item per row: the question plus ANSWER_BRIEFLY, the row's image, the answer as reference."""
    rows, base = read_rows(source, split=split)
    for i, row in enumerate(rows):
        where = f"{source} row {i}"
        question = str(column(row, "question", where))
        yield EvalItem(
            question_id=str(column(row, id_column, where)),
            task=task,
            prompt=question + ANSWER_BRIEFLY,
            images=(image_value(column(row, "image", where), base, where),),
            reference=str(column(row, "answer", where)),
            language="ja",
            meta={"question": question},
        )

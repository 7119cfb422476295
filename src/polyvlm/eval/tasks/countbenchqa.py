"""CountBenchQA: how many objects a photo shows (2 to 10), the CountBench captions turned into questions.

Hub table columns (vikhyatk/CountBenchQA, test): `image, text` (the caption the count comes from),
`question, number`; the question id is the row index. Scored by the count the answer states."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows

SUFFIX = "\nAnswer with a number."


@register_task
class CountBenchQA(Task):
    """CountBenchQA test."""

    name = "countbenchqa"
    description = "CountBenchQA object counting, the stated count against the true one"
    languages = ("en",)
    default_metrics = ("count_match",)
    hub_name = "vikhyatk/CountBenchQA"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row; the reference is the count as a string."""
        rows, base = read_rows(source, split="test")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            number = column(row, "number", where)
            try:
                count = int(number)
            except (TypeError, ValueError) as e:
                raise TaskDataError(f"{where}: number is not a count: {number!r}") from e
            yield EvalItem(
                question_id=str(i),
                task=self.name,
                prompt=str(column(row, "question", where)).strip() + SUFFIX,
                images=(image_value(column(row, "image", where), base, where),),
                reference=str(count),
                language="en",
                meta={"text": row.get("text", "")},
            )

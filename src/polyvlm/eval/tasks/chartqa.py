"""ChartQA: questions about charts, scored by relaxed accuracy (5 % on numbers), split by who wrote them.

Hub table columns (lmms-lab/ChartQA, test): `type` (`human_test`: written by people; `augmented_test`:
generated from the chart's data), `question, answer, image`; the question id is the row index. The two
halves are the categories, so both are reported beside the mean over all items, as lmms-eval does."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import column, read_rows

SUFFIX = "\nAnswer the question with a single word."


@register_task
class ChartQA(Task):
    """ChartQA test: human-written and augmented questions."""

    name = "chartqa"
    description = "ChartQA charts, relaxed accuracy (5 % on numbers), human and augmented halves"
    languages = ("en",)
    default_metrics = ("relaxed_match",)
    hub_name = "lmms-lab/ChartQA"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row; the category is `human` or `augmented`."""
        rows, base = read_rows(source, split="test")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            kind = str(row.get("type") or "").removesuffix("_test")
            yield EvalItem(
                question_id=str(i),
                task=self.name,
                prompt=str(column(row, "question", where)).strip() + SUFFIX,
                images=(image_value(column(row, "image", where), base, where),),
                reference=str(column(row, "answer", where)),
                category=kind,
                language="en",
            )

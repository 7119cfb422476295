"""MME: two yes/no questions per image over 14 subtasks (perception and cognition); scored per category by
acc (per question) and acc+ (both questions of an image right), summed into perception and cognition.

Hub table columns (lmms-lab): `question_id` (the image's name — shared by its two questions), `image,
question, answer` (Yes/No), `category`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import column, read_rows

COGNITION = ("commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning")


@register_task
class MME(Task):
    """MME: yes/no perception and cognition."""

    name = "mme"
    description = "MME: yes/no on 14 subtasks; acc, acc+, perception and cognition totals"
    languages = ("en",)
    default_metrics = ("mme",)
    hub_name = "lmms-lab/MME"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per question; the two questions of an image share a group (for acc+)."""
        rows, base = read_rows(source, split="test")
        seen: Counter[str] = Counter()
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            image_id = str(column(row, "question_id", where))
            category = str(column(row, "category", where))
            key = f"{category}/{image_id}"
            seen[key] += 1
            yield EvalItem(
                question_id=f"{key}#{seen[key]}",
                task=self.name,
                prompt=str(column(row, "question", where)),
                images=(image_value(column(row, "image", where), base, where),),
                reference=str(column(row, "answer", where)).strip(),
                category=category,
                language="en",
                group=key,
                meta={"part": "cognition" if category in COGNITION else "perception"},
            )

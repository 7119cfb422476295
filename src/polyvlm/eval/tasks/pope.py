"""POPE: yes/no questions on object presence in COCO images, in three splits (random, popular,
adversarial); accuracy, precision, recall, F1 and the share of *predicted* "yes".

Hub table columns (lmms-lab): `id, question_id, question, answer, image_source, image, category`."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import column, read_rows


@register_task
class POPE(Task):
    """POPE: object hallucination probing."""

    name = "pope"
    description = (
        "POPE object hallucination (random/popular/adversarial): acc, precision, recall, F1, yes-share"
    )
    languages = ("en",)
    default_metrics = ("pope",)
    hub_name = "lmms-lab/POPE"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row; ids carry the split, since question ids repeat across splits."""
        rows, base = read_rows(source, split="test")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            category = str(row.get("category", ""))
            qid = str(row.get("question_id", row.get("id", i)))
            yield EvalItem(
                question_id=f"{category}/{qid}" if category else qid,
                task=self.name,
                prompt=str(column(row, "question", where)),
                images=(image_value(column(row, "image", where), base, where),),
                reference=str(column(row, "answer", where)).strip().lower(),
                category=category,
                language="en",
                meta={"image_source": row.get("image_source", "")},
            )

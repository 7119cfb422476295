"""RealWorldQA (xAI 2024): real-world spatial questions on photos, mostly from vehicles.

Hub table columns (lmms-lab/RealWorldQA, xai-org/RealworldQA; test): `image, question, answer`; the question
already holds its options and the answer instruction ("Please answer directly with only the letter of the
correct option and nothing else.", or a single word or number), so it is the prompt as is. The answer is an
option letter or a word; scored by exact match with a final full stop dropped, as lmms-eval scores it."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import column, read_rows


@register_task
class RealWorldQA(Task):
    """RealWorldQA test; the question id is the row index."""

    name = "realworldqa"
    description = "RealWorldQA real-world spatial understanding, exact match of the letter or word"
    languages = ("en",)
    default_metrics = ("exact_match",)
    hub_name = "lmms-lab/RealWorldQA"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row."""
        rows, base = read_rows(source, split="test")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            yield EvalItem(
                question_id=str(i),
                task=self.name,
                prompt=str(column(row, "question", where)).strip(),
                images=(image_value(column(row, "image", where), base, where),),
                reference=str(column(row, "answer", where)).strip(),
                language="en",
            )

"""LLaVA-Bench (In-the-Wild): 60 questions on 24 images (conv / detail / complex), judged relative to GPT-4's
answers with the image's human caption as context (llava_judge).

Hub table columns (lmms-lab): `question_id, question, image, caption, gpt_answer, category, image_id`.
The Japanese version has the same columns with Japanese questions and answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import column, read_rows


@register_task
class LlavaBenchInTheWild(Task):
    """LLaVA-Bench (In-the-Wild), English."""

    name = "llava-bench-in-the-wild"
    description = "60 questions on 24 diverse images (conv/detail/complex); judge-relative score"
    languages: ClassVar[tuple[str, ...]] = ("en",)
    default_metrics = ("llava_judge",)
    hub_name = "lmms-lab/llava-bench-in-the-wild"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row."""
        rows, base = read_rows(source, split="train")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            yield EvalItem(
                question_id=str(column(row, "question_id", where)),
                task=self.name,
                prompt=str(column(row, "question", where)),
                images=(image_value(column(row, "image", where), base, where),),
                reference=str(column(row, "gpt_answer", where)),
                category=str(row.get("category", "")),
                language=self.languages[0],
                meta={"context": row.get("caption", ""), "image_id": row.get("image_id", "")},
            )


@register_task
class LlavaBenchInTheWildJa(LlavaBenchInTheWild):
    """LLaVA-Bench (In-the-Wild), Japanese translation (same columns)."""

    name = "llava-bench-in-the-wild-ja"
    description = "LLaVA-Bench (In-the-Wild) in Japanese; judge-relative score"
    languages = ("ja",)
    hub_name = ""

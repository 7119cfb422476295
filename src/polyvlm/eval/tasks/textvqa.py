"""TextVQA (Singh et al. 2019): questions that need the text in a photo, scored by VQA accuracy over ten answers.

Hub table columns (lmms-lab/textvqa, validation): `image_id, question_id, question, question_tokens, image,
image_width, image_height, flickr_original_url, flickr_300k_url, answers` (ten human answers), `image_classes,
set_name, ocr_tokens`. The prompt is the question capitalised, as lmms-eval asks it (no OCR tokens)."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.docvqa import answers_of
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.short_answer import short_answer_prompt
from polyvlm.eval.tasks.table_rows import column, read_rows


@register_task
class TextVQA(Task):
    """TextVQA validation: ten human answers per question."""

    name = "textvqa"
    description = "TextVQA scene text, VQA accuracy over ten human answers"
    languages = ("en",)
    default_metrics = ("vqa_accuracy",)
    hub_name = "lmms-lab/textvqa"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row, keyed by `question_id`; the ten answers are the reference."""
        rows, base = read_rows(source, split="validation")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            yield EvalItem(
                question_id=str(column(row, "question_id", where)),
                task=self.name,
                prompt=short_answer_prompt(str(column(row, "question", where)).capitalize()),
                images=(image_value(column(row, "image", where), base, where),),
                reference=answers_of(row, where),
                language="en",
                meta={"image_id": row.get("image_id"), "ocr_tokens": list(row.get("ocr_tokens") or [])},
            )

"""CC-OCR (Yang et al., 2024), its multilingual OCR track, Japanese rows, as llm-jp-eval-mm evaluates it:
the hub config `multi_lan_ocr` of wulipc/CC-OCR (test split) — `index, question, answer, image` (base64),
`l1-category, l2-category` (the language) — keeping the rows whose `l2-category` is `Japanese`; the id is
the row's position among them (the anchor's numbering). The question (CC-OCR's own OCR instruction) goes
to the model as it is; scored by `cc_ocr` (character-bag F1)."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import column, read_rows

LANGUAGE = "Japanese"


@register_task
class CCOCRJa(Task):
    """CC-OCR multi_lan_ocr, Japanese rows: read all the text in the image."""

    name = "cc-ocr"
    description = "CC-OCR multilingual OCR, Japanese rows; character-level F1 (CC-OCR's metric)"
    languages = ("ja",)
    default_metrics = ("cc_ocr",)
    hub_name = "wulipc/CC-OCR"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per Japanese row, numbered in order."""
        rows, base = read_rows(source, split="test", config="multi_lan_ocr")
        n = 0
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            if column(row, "l2-category", where) != LANGUAGE:
                continue
            yield EvalItem(
                question_id=str(n),
                task=self.name,
                prompt=str(column(row, "question", where)),
                images=(image_value(column(row, "image", where), base, where),),
                reference=str(column(row, "answer", where)),
                language="ja",
                meta={"index": row.get("index", "")},
            )
            n += 1

"""JA-VLM-Bench-In-the-Wild (Sakana AI): 50 Japanese questions on 42 web images; ROUGE-L and a 1–5 judge.

Hub table columns: `page_url, image_url, image, question, answer`; the question id is the row index,
as llm-jp-eval-mm numbers it."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import column, read_rows


@register_task
class JaVLMBenchInTheWild(Task):
    """JA-VLM-Bench-In-the-Wild: short Japanese answers about Japanese scenes."""

    name = "ja-vlm-bench-in-the-wild"
    description = "50 Japanese questions on web images of Japan; ROUGE-L (ja) and LLM judge 1-5"
    languages = ("ja",)
    default_metrics = ("rougel", "llm_judge_vila")
    hub_name = "SakanaAI/JA-VLM-Bench-In-the-Wild"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row, numbered by row."""
        rows, base = read_rows(source, split="test")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            yield EvalItem(
                question_id=str(i),
                task=self.name,
                prompt=str(column(row, "question", where)),
                images=(image_value(column(row, "image", where), base, where),),
                reference=str(column(row, "answer", where)),
                language="ja",
                meta={"page_url": row.get("page_url", ""), "image_url": row.get("image_url", "")},
            )

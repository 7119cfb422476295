"""JA-Multi-Image-VQA (Sakana AI): Japanese questions over several images each. Hub table (test split):
`question, answer, images` (a list of image cells) with the source's metadata; the id is the row index, as
llm-jp-eval-mm numbers it. The question's `<image> ` tags are removed (the images are shown before the
text, in list order), as the anchor does; scored by ROUGE-L (MeCab words)."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows


@register_task
class JAMultiImageVQA(Task):
    """JA-Multi-Image-VQA: every image of the row, then the question."""

    name = "ja-multi-image-vqa"
    description = "Japanese questions over several images each; ROUGE-L (ja)"
    languages = ("ja",)
    default_metrics = ("rougel",)
    hub_name = "SakanaAI/JA-Multi-Image-VQA"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row, id = row index."""
        rows, base = read_rows(source, split="test")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            cells = column(row, "images", where)
            if not isinstance(cells, list) or not cells:
                raise TaskDataError(f"{where}: images is not a non-empty list")
            question = str(column(row, "question", where)).replace("<image> ", "")
            yield EvalItem(
                question_id=str(i),
                task=self.name,
                prompt=question,
                images=tuple(image_value(c, base, where) for c in cells),
                reference=str(column(row, "answer", where)),
                language="ja",
                meta={"question": question},
            )

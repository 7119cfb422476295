"""custom: your own questions as JSONL — one object a line:
`{"id": "q1", "image": "a.jpg" | "images": ["a.jpg", "b.jpg"], "question": "...", "reference": "..." |
["...", "..."], "choices": ["...", "..."] | {"A": "..."}, "category": "...", "language": "ja"}`
(image paths relative to the file; `answer` is accepted for `reference`); scored by the metrics you choose."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.choice_prompt import instruction, lettered, options_block
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows


@register_task
class CustomTask(Task):
    """A JSONL of image(s), question, reference (and choices), with the metrics given on the command line."""

    name = "custom"
    description = "Your JSONL: image(s), question, reference, optional choices; metrics of your choice"
    default_metrics = ("exact_match",)

    def __init__(self, metrics: tuple[str, ...] | None = None) -> None:
        if metrics:
            self.default_metrics = tuple(metrics)

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per line; the question id is `id` or the line number."""
        rows, base = read_rows(source)
        for i, row in enumerate(rows):
            where = f"{source} line {i + 1}"
            names = row.get("images") or ([row["image"]] if row.get("image") else [])
            if isinstance(names, str):
                names = [names]
            reference = row.get("reference", row.get("answer"))
            if reference is None:
                raise TaskDataError(f"{where}: no reference (or answer)")
            reference = tuple(str(r) for r in reference) if isinstance(reference, list) else str(reference)
            raw = row.get("choices")
            choices = (
                lettered(raw)
                if isinstance(raw, list)
                else ({str(k): str(v) for k, v in raw.items()} if raw else None)
            )
            question = str(column(row, "question", where))
            language = str(row.get("language", ""))
            prompt = f"{question}\n{options_block(choices)}\n{instruction(language)}" if choices else question
            yield EvalItem(
                question_id=str(row.get("id", i)),
                task=self.name,
                prompt=prompt,
                images=tuple(image_value(n, base, where) for n in names),
                reference=reference,
                choices=choices,
                category=str(row.get("category", "")),
                language=language,
                meta={"question": question},
            )

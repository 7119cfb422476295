"""BLINK (Fu et al. 2024): visual perception questions, often over several images, as multiple choice.

Hub layout (BLINK-Benchmark/BLINK, one config per sub-task, split val; the test answers are hidden):
`idx, question, sub_task, image_1 … image_4` (the unused ones empty), `choices` (a list), `answer` (the
letter in brackets, "(A)"), `prompt` (the question with its options and the answer instruction, as the
benchmark asks it), `explanation`. The prompt is used as is; the images in column order; the sub-task
is the category. Scored by choice accuracy."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.choice_prompt import instruction, lettered, options_block
from polyvlm.eval.tasks.image_values import images_in
from polyvlm.eval.tasks.scienceqa import listed
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows

IMAGE_COLUMNS = ["image_1", "image_2", "image_3", "image_4"]


@register_task
class BLINK(Task):
    """BLINK val: 14 perception sub-tasks, one to four images per question."""

    name = "blink"
    description = "BLINK visual perception (1-4 images per question), multiple choice; option extraction"
    languages = ("en",)
    default_metrics = ("choice",)
    hub_name = "BLINK-Benchmark/BLINK"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row, keyed by `idx`."""
        rows, base = read_rows(source, split="val", all_configs=True)
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            choices = lettered(listed(column(row, "choices", where), where))
            answer = str(column(row, "answer", where)).strip().strip("()")
            if answer not in choices:
                raise TaskDataError(f"{where}: answer {answer!r} is not one of {', '.join(choices)}")
            images = images_in(row, IMAGE_COLUMNS, base, where)
            if not images:
                raise TaskDataError(f"{where}: no image in {', '.join(IMAGE_COLUMNS)}")
            question = str(column(row, "question", where))
            prompt = str(row.get("prompt") or f"{question}\n{options_block(choices)}\n{instruction('en')}")
            yield EvalItem(
                question_id=str(column(row, "idx", where)),
                task=self.name,
                prompt=prompt,
                images=images,
                reference=answer,
                choices=choices,
                category=str(row.get("sub_task", "")),
                language="en",
            )

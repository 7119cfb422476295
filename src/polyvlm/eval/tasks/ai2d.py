"""AI2D: multiple choice on grade-school science diagrams.

Hub table columns (lmms-lab/ai2d): `question, options` (a list), `answer` (the index as a string),
`image`; the question id is the row index, as llm-jp-eval-mm numbers it."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.choice_prompt import LETTERS, instruction, lettered, options_block
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.scienceqa import listed
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows


@register_task
class AI2D(Task):
    """AI2D: diagram understanding."""

    name = "ai2d"
    description = "AI2D science diagrams, multiple choice; option extraction"
    languages = ("en",)
    default_metrics = ("choice",)
    hub_name = "lmms-lab/ai2d"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row."""
        rows, base = read_rows(source, split="test")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            choices = lettered(listed(column(row, "options", where), where))
            answer = int(column(row, "answer", where))
            if not 0 <= answer < len(choices):
                raise TaskDataError(f"{where}: answer index {answer} outside {len(choices)} options")
            yield EvalItem(
                question_id=str(i),
                task=self.name,
                prompt=f"{column(row, 'question', where)}\n{options_block(choices)}\n{instruction('en')}",
                images=(image_value(column(row, "image", where), base, where),),
                reference=LETTERS[answer],
                choices=choices,
                language="en",
                meta={"question": str(row["question"])},
            )

"""ScienceQA (image questions): multiple choice over natural, social and language science.

Hub table columns (derek-thomas/ScienceQA, lmms-lab/ScienceQA): `image` (None for text-only questions),
`question, choices` (a list), `answer` (the index of the right choice), `hint, subject, topic, grade, ...`."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.choice_prompt import LETTERS, instruction, lettered, options_block
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows


def listed(value: object, where: str) -> list[str]:
    """A list cell (a list, or a JSON list in a string)."""
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError as e:
            raise TaskDataError(f"{where}: not a list: {value[:80]!r}") from e
    if not isinstance(value, list):
        raise TaskDataError(f"{where}: not a list")
    return [str(v) for v in value]


@register_task
class ScienceQA(Task):
    """ScienceQA: the questions with an image (text-only ones kept when the table has them)."""

    name = "scienceqa"
    description = "ScienceQA: science multiple choice with a context hint; option extraction"
    languages = ("en",)
    default_metrics = ("choice",)
    hub_name = "derek-thomas/ScienceQA"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row; the answer index becomes its letter."""
        rows, base = read_rows(source, split="test")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            choices = lettered(listed(column(row, "choices", where), where))
            answer = int(column(row, "answer", where))
            if not 0 <= answer < len(choices):
                raise TaskDataError(f"{where}: answer index {answer} outside {len(choices)} choices")
            hint = str(row.get("hint") or "").strip()
            context = f"Context: {hint}\n" if hint else ""
            cell = row.get("image")
            images = () if cell in (None, "", {}) else (image_value(cell, base, where),)
            yield EvalItem(
                question_id=str(row.get("id", i)),
                task=self.name,
                prompt=f"{context}{column(row, 'question', where)}\n{options_block(choices)}\n{instruction('en')}",
                images=images,
                reference=LETTERS[answer],
                choices=choices,
                category=str(row.get("subject", "")),
                language="en",
                meta={
                    "topic": row.get("topic", ""),
                    "grade": row.get("grade", ""),
                    "question": str(row["question"]),
                    "hint": hint,
                },
            )

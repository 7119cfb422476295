"""CVQA (Romero et al., NeurIPS 2024), the Japan subset, as llm-jp-eval-mm selects it: the hub table
afaji/cvqa (test split) — `image, ID, Subset, Question, Translated Question, Options, Translated Options,
Label` (0-3), `Category, Image Type, Image Source, License` — keeping the rows whose `Subset` is
`('Japanese', 'Japan')`; the id is the row's position among them (the anchor's numbering). The prompt is
the Japanese question, `A. …` lines and the anchor's letter instruction. Scored by `choice` (option
extraction; llm-jp-eval-mm counts the letter anywhere in the answer, which credits any answer that
happens to contain it)."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.choice_prompt import instruction, lettered, options_block
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.mmmu_layout import parse_options
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows

SUBSET = "('Japanese', 'Japan')"


@register_task
class CVQAJapan(Task):
    """CVQA, Japanese questions about images from Japan: four options each."""

    name = "cvqa-ja"
    description = "CVQA Japan subset: culturally grounded multiple choice in Japanese; choice accuracy"
    languages = ("ja",)
    default_metrics = ("choice",)
    hub_name = "afaji/cvqa"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per Japan-subset row; the category is CVQA's `Category`."""
        rows, base = read_rows(source, split="test")
        n = 0
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            if column(row, "Subset", where) != SUBSET:
                continue
            choices = lettered(parse_options(column(row, "Options", where), where))
            label = int(column(row, "Label", where))
            if not 0 <= label < len(choices):
                raise TaskDataError(f"{where}: Label {label} is not an option index")
            question = str(column(row, "Question", where))
            yield EvalItem(
                question_id=str(n),
                task=self.name,
                prompt=f"{question}\n{options_block(choices)}\n\n{instruction('ja')}",
                images=(image_value(column(row, "image", where), base, where),),
                reference=list(choices)[label],
                choices=choices,
                category=str(row.get("Category") or ""),
                language="ja",
                meta={"ID": row.get("ID", ""), "question": question},
            )
            n += 1

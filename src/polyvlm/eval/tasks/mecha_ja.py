"""MECHA-ja (llm-jp): Japanese multiple-choice questions on images, some with a background text. Hub table
(test split): `question, options` (four texts), `answer` (0-3), `answer_type` (0 factoid, 1 non-factoid),
`image, background_text`; the id is the row index. As llm-jp-eval-mm with `rotate_choices`: every
question is asked four times with its options rotated left by 0-3 places (ids `<index>_rot<i>`, the
answer letter moved along); the prompt is the question, `A. …` lines and the anchor's letter instruction
(the background text is not shown, as in the anchor). Scored by `mecha_ja` (letter containment, with the
breakdown by rotation, answer type and background)."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.choice_prompt import instruction, lettered, options_block
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.mmmu_layout import parse_options
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows


@register_task
class MECHAJa(Task):
    """MECHA-ja with its four option rotations."""

    name = "mecha-ja"
    description = "Japanese multiple choice on images, 4 option rotations; letter match by rotation"
    languages = ("ja",)
    default_metrics = ("mecha_ja",)
    hub_name = "llm-jp/MECHA-ja"

    def load(self, source: str) -> Iterator[EvalItem]:
        """Four items per row (rotations 0-3), grouped by the row index."""
        rows, base = read_rows(source, split="test")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            options = parse_options(column(row, "options", where), where)
            answer = int(column(row, "answer", where))
            if not 0 <= answer < len(options):
                raise TaskDataError(f"{where}: answer {answer} is not an option index (0-{len(options) - 1})")
            image = image_value(column(row, "image", where), base, where)
            question = str(column(row, "question", where))
            for rot in range(len(options)):
                choices = lettered(options[rot:] + options[:rot])
                letter = list(choices)[(answer - rot) % len(options)]
                yield EvalItem(
                    question_id=f"{i}_rot{rot}",
                    task=self.name,
                    prompt=f"{question}\n{options_block(choices)}\n\n{instruction('ja')}",
                    images=(image,),
                    reference=letter,
                    choices=choices,
                    language="ja",
                    group=str(i),
                    meta={"answer_type": row.get("answer_type", ""),
                          "background_text": row.get("background_text") or "", "rotation": rot},
                )  # fmt: skip

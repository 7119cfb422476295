"""The MMBench TSV layout (VLMEvalKit): `index, question, hint, A, B, C, D, answer, category, l2-category,
image` (base64) — read by mmbench, mmmb and multilingual-mmbench — and circular evaluation's rotations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from polyvlm.eval.items import EvalItem
from polyvlm.eval.tasks.choice_prompt import LETTERS, instruction, options_block, rotate
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import TaskDataError, column


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() in ("", "nan")


def mmbench_prompt(question: str, hint: str, choices: dict[str, str], language: str) -> str:
    """Hint (when there is one), question, lettered options, the answer-with-a-letter instruction."""
    parts = [hint] if hint else []
    parts += [question, options_block(choices), instruction(language)]
    return "\n".join(parts)


def mmbench_items(
    task: str, rows: list[dict[str, Any]], base: Path, where: str, language: str, circular: bool
) -> Iterator[EvalItem]:
    """One item per row, or (circular) one per rotation of its options, grouped by the row's index."""
    for i, row in enumerate(rows):
        at = f"{where} row {i}"
        index = str(column(row, "index", at))
        choices = {k: str(row[k]).strip() for k in LETTERS[:26] if k in row and not _blank(row[k])}
        if len(choices) < 2:
            raise TaskDataError(f"{at}: fewer than two options")
        answer = str(column(row, "answer", at)).strip()
        if answer not in choices:
            raise TaskDataError(f"{at}: answer {answer!r} is not one of the options {', '.join(choices)}")
        hint = "" if _blank(row.get("hint")) else str(row["hint"]).strip()
        question = str(column(row, "question", at))
        image = image_value(column(row, "image", at), base, at)
        lang = str(row.get("language") or language)
        meta = {"l2-category": row.get("l2-category", ""), "source": row.get("source", "")}
        for shift in range(len(choices) if circular else 1):
            shown, key = rotate(choices, answer, shift) if shift else (choices, answer)
            yield EvalItem(
                question_id=index if shift == 0 else f"{index}-c{shift}",
                task=task,
                prompt=mmbench_prompt(question, hint, shown, lang),
                images=(image,),
                reference=key,
                choices=shown,
                category=str(row.get("category", "")),
                language=lang,
                group=index,
                meta={**meta, "rotation": shift, "question": question, "hint": hint},
            )

"""JMMMU: the MMMU layout in Japanese — `id, question, options` (a Python-literal list in a string),
`answer, image_1 … image_7, question_type, subject/subfield, explanation`; images are referenced in the
question as `<image N>`. Multiple-choice questions are scored by option extraction (choice)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.choice_prompt import lettered, options_block
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows

MULTI_CHOICE = "与えられた選択肢の中から最も適切な回答のアルファベットを直接記入してください。"
OPEN_ENDED = "質問に対する回答を単語や短いフレーズで記入してください。"
IMAGE_REF = re.compile(r"<image ?(\d)>")


def parse_options(value: object, where: str) -> list[str]:
    """MMMU's `options`: a list, or a string holding a Python list literal."""
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = ast.literal_eval(str(value)) if value not in (None, "") else []
    except (ValueError, SyntaxError) as e:
        raise TaskDataError(f"{where}: options is not a list literal: {value!r}") from e
    return [str(v) for v in parsed]


@register_task
class JMMMU(Task):
    """JMMMU: Japanese MMMU (culture-agnostic and culture-specific subjects)."""

    name = "jmmmu"
    description = "Japanese MMMU: college-level multiple choice over 28 subjects; option extraction"
    languages = ("ja",)
    default_metrics = ("choice",)
    hub_name = "JMMMU/JMMMU"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row; the images in the order the question names them (`<image 1>` …)."""
        rows, base = read_rows(source, split="test", all_configs=True)
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            qid = str(column(row, "id", where))
            question = str(column(row, "question", where)).replace("<image1>", "<image 1>")
            options = parse_options(row.get("options"), where)
            refs = list(dict.fromkeys(IMAGE_REF.findall(question + " ".join(options))))
            if not refs:  # no reference in the text: every image the row has, in column order
                refs = [str(n) for n in range(1, 8) if row.get(f"image_{n}") not in (None, "", {})]
            images = []
            for n in refs:
                cell = row.get(f"image_{n}")
                if cell in (None, "", {}):
                    raise TaskDataError(f"{where}: the question shows <image {n}> but image_{n} is empty")
                images.append(image_value(cell, base, where))
            # the picture itself is shown before the text; the text keeps a plain mention of it
            text = IMAGE_REF.sub(lambda m: f"[画像{m.group(1)}]", question)
            choices = lettered([IMAGE_REF.sub(lambda m: f"[画像{m.group(1)}]", o) for o in options])
            multiple = row.get("question_type", "multiple-choice") == "multiple-choice" and choices
            prompt = (
                f"{text}\n{options_block(choices)}\n\n{MULTI_CHOICE}"
                if multiple
                else f"{text}\n\n{OPEN_ENDED}"
            )
            subject = row.get("subject") or row.get("subfield") or qid.rsplit("_", 1)[0]
            yield EvalItem(
                question_id=qid,
                task=self.name,
                prompt=prompt,
                images=tuple(images),
                reference=str(column(row, "answer", where)),
                choices=choices if multiple else None,
                category=str(subject),
                language="ja",
                meta={"question_type": row.get("question_type", ""), "subfield": row.get("subfield", "")},
            )

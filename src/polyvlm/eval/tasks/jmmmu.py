"""JMMMU: the MMMU layout in Japanese — `id, question, options` (a Python-literal list in a string),
`answer, image_1 … image_7, question_type, subject/subfield, explanation`; images are referenced in the
question as `<image N>`. Multiple-choice questions are scored by option extraction (choice)."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.choice_prompt import lettered, options_block
from polyvlm.eval.tasks.mmmu_layout import IMAGE_REF, parse_options, shown_images
from polyvlm.eval.tasks.table_rows import column, read_rows

MULTI_CHOICE = "与えられた選択肢の中から最も適切な回答のアルファベットを直接記入してください。"
OPEN_ENDED = "質問に対する回答を単語や短いフレーズで記入してください。"


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
            images = shown_images(row, question + " ".join(options), base, where)
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
                images=images,
                reference=str(column(row, "answer", where)),
                choices=choices if multiple else None,
                category=str(subject),
                language="ja",
                meta={"question_type": row.get("question_type", ""), "subfield": row.get("subfield", "")},
            )

"""MMMU (Yue et al. 2024), validation: college-level questions over 30 subjects, one to seven images each.

Hub layout (MMMU/MMMU, one config per subject, split validation): `id, question, options` (a Python list
literal in a string), `explanation, image_1 … image_7, img_type, answer, topic_difficulty, question_type`
(`multiple-choice` or `open`), `subfield`. Images are named in the text as `<image N>`; they are shown in
that order and the text keeps a plain mention `[image N]`. An open question's answer may be a list literal
(several accepted answers). Scored with MMMU's own parsing (`mmmu` scorer); the subject (from the id
`validation_<Subject>_<n>`) is the category."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.choice_prompt import instruction, lettered, options_block
from polyvlm.eval.tasks.mmmu_layout import IMAGE_REF, parse_options, shown_images
from polyvlm.eval.tasks.short_answer import SINGLE_WORD_OR_PHRASE
from polyvlm.eval.tasks.table_rows import column, read_rows


def accepted_answers(value: object) -> str | tuple[str, ...]:
    """An answer cell: one answer, or the accepted answers of a list literal ("['24/7', '3.429']")."""
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(parsed, list) and parsed:
            return tuple(str(a) for a in parsed)
    return text


def _mention(text: str) -> str:
    return IMAGE_REF.sub(lambda m: f"[image {m.group(1)}]", text)


@register_task
class MMMU(Task):
    """MMMU validation: multiple-choice and open questions."""

    name = "mmmu"
    description = "MMMU validation: college-level multiple choice and open questions; MMMU's own parsing"
    languages = ("en",)
    default_metrics = ("mmmu",)
    hub_name = "MMMU/MMMU"

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row, keyed by `id`."""
        rows, base = read_rows(source, split="validation", all_configs=True)
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            qid = str(column(row, "id", where))
            question = str(column(row, "question", where))
            options = parse_options(row.get("options"), where)
            images = shown_images(row, question + " ".join(options), base, where)
            choices = lettered([_mention(o) for o in options])
            multiple = row.get("question_type", "multiple-choice") == "multiple-choice" and bool(choices)
            text = _mention(question)
            prompt = (
                f"{text}\n{options_block(choices)}\n\n{instruction('en')}"
                if multiple
                else f"{text}\n\n{SINGLE_WORD_OR_PHRASE}"
            )
            subject = qid.split("_")[1] if qid.count("_") >= 2 else str(row.get("subfield", ""))
            yield EvalItem(
                question_id=qid,
                task=self.name,
                prompt=prompt,
                images=images,
                reference=str(column(row, "answer", where)).strip()
                if multiple
                else accepted_answers(row["answer"]),
                choices=choices if multiple else None,
                category=subject,
                language="en",
                meta={"question_type": row.get("question_type", ""), "subfield": row.get("subfield", "")},
            )

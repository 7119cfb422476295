"""MTVQA: text-centric VQA written by native speakers in 9 languages (ar, de, fr, it, ja, ko, ru, th, vi).

Hub table columns: `id, image, lang, qa_pairs` where `qa_pairs` is a list (or its Python-literal string)
of `{question, answer}`; every pair is an item. Scored per language (mtvqa: lowercase, strip, drop '.',
reference contained in the prediction)."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows

SUFFIX = "\nAnswer the question using a word or phrase in the language of the question."


def qa_pairs(value: object, where: str) -> list[dict]:
    """The pairs of a row: a list, a JSON string or a Python-literal string."""
    if isinstance(value, list):
        return value
    text = str(value or "").strip()
    for parse in (json.loads, ast.literal_eval):
        try:
            parsed = parse(text)
        except (ValueError, SyntaxError):
            continue
        if isinstance(parsed, list):
            return parsed
    raise TaskDataError(f"{where}: qa_pairs is not a list of {{question, answer}}")


@register_task
class MTVQA(Task):
    """MTVQA test set: short answers read from text in the image."""

    name = "mtvqa"
    description = "Multilingual text-centric VQA (9 languages), containment match per language"
    languages = ("ar", "de", "fr", "it", "ja", "ko", "ru", "th", "vi")
    default_metrics = ("mtvqa",)
    hub_name = "ByteDance/MTVQA"

    def load(self, source: str) -> Iterator[EvalItem]:
        """Every QA pair of every row; the category is the language."""
        rows, base = read_rows(source, split="test")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            rid = str(row.get("id", i))
            lang = str(row.get("lang") or row.get("language") or "")
            image = image_value(column(row, "image", where), base, where)
            for k, qa in enumerate(qa_pairs(column(row, "qa_pairs", where), where)):
                yield EvalItem(
                    question_id=f"{rid}-{k}",
                    task=self.name,
                    prompt=str(column(qa, "question", where)) + SUFFIX,
                    images=(image,),
                    reference=str(column(qa, "answer", where)),
                    category=lang,
                    language=lang,
                    group=rid,
                )

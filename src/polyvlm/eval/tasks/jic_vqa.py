"""JIC-VQA (LINE): Japanese image classification as VQA over four domains. The hub set (line-corporation/
JIC-VQA) ships only image URLs (`id, url, category, question`, one CSV per domain); llm-jp-eval-mm's
scripts/prepare_jic_vqa.py downloads the images and writes `jic_vqa.parquet` with `question_id,
input_text, answer, image, domain, url, category`. That prepared table is read here (its image column is
required; the hub CSVs' column names are accepted too: `id`, `question`, `category` as the answer). The
domain is the anchor's: the keyword of the question (花 → jaflower30, 食べ物 → jafood101, ランドマーク →
jalandmark10, 施設 → jafacility20) when no `domain` column. Scored by `jic_vqa` (containment, mean of the
domain means)."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows

DOMAIN_OF_KEYWORD = {
    "花": "jaflower30",
    "食べ物": "jafood101",
    "ランドマーク": "jalandmark10",
    "施設": "jafacility20",
}


def domain_of(question: str) -> str:
    """The anchor's domain of a question: the first keyword it contains ("" when none)."""
    return next((domain for keyword, domain in DOMAIN_OF_KEYWORD.items() if keyword in question), "")


def first_of(row: dict, names: tuple[str, ...], where: str) -> object:
    """The first of `names` the row has (a TaskDataError naming them all when none)."""
    for name in names:
        if name in row:
            return row[name]
    return column(row, names[0], where)


@register_task
class JICVQA(Task):
    """JIC-VQA: one image, "what is this (flower / food / landmark / facility)?", the class name as answer."""

    name = "jic-vqa"
    description = "Japanese image classification VQA (flowers, food, landmarks, facilities); match per domain"
    languages = ("ja",)
    default_metrics = ("jic_vqa",)
    hub_name = ""  # the hub set has URLs only: prepare the images first (see the module docstring)

    def load(self, source: str) -> Iterator[EvalItem]:
        """One item per row; the category is the domain."""
        rows, base = read_rows(source, split="train")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            if "image" not in row:
                raise TaskDataError(f"{where}: no image column; download the images as llm-jp-eval-mm's "
                                    "scripts/prepare_jic_vqa.py does and pass its jic_vqa.parquet")  # fmt: skip
            question = str(first_of(row, ("input_text", "question"), where))
            domain = str(row.get("domain") or domain_of(question))
            yield EvalItem(
                question_id=str(first_of(row, ("question_id", "id"), where)),
                task=self.name,
                prompt=question,
                images=(image_value(row["image"], base, where),),
                reference=str(first_of(row, ("answer", "category"), where)),
                category=domain,
                language="ja",
                meta={"question": question},
            )

"""Japanese Heron-Bench: 103 questions (conv / detail / complex) over 21 Japan-related images, judged against
GPT-4's reference answers with the image's context (heron_judge: 100 · mean(model) / mean(reference)).

Two local layouts: the Heron repository's (`questions_ja.jsonl` with `answers_gpt4.jsonl` beside it and the
images in `images/` or beside them) and the hub dataset's table (`question_id, image, category,
image_category, context, text, answer{model: text}`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from polyvlm.eval.answer_files import read_answer_file
from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows

REFERENCE_MODEL = "gpt-4-0125-preview"  # the hub table's answer dict holds several; the benchmark's is GPT-4


@register_task
class JapaneseHeronBench(Task):
    """Japanese Heron-Bench (Turing): free-form answers judged relative to GPT-4's."""

    name = "japanese-heron-bench"
    description = "103 Japanese questions on 21 images (conv/detail/complex); judge-relative score"
    languages = ("ja",)
    default_metrics = ("heron_judge",)
    hub_name = "Silviase/Japanese-Heron-Bench"

    def load(self, source: str) -> Iterator[EvalItem]:
        """Items from the Heron repository layout or the hub table."""
        path = Path(source)
        if path.is_dir() and (path / "questions_ja.jsonl").is_file():
            yield from self._load_repo_layout(path)
            return
        rows, base = read_rows(source, split="train")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            answers = column(row, "answer", where)
            reference = answers.get(REFERENCE_MODEL) if isinstance(answers, dict) else answers
            if reference is None and isinstance(answers, dict) and answers:
                reference = next(iter(answers.values()))
            yield self._item(row, image_value(column(row, "image", where), base, where), reference, where)

    def _load_repo_layout(self, path: Path) -> Iterator[EvalItem]:
        questions, _ = read_rows(path / "questions_ja.jsonl")
        answers_file = path / "answers_gpt4.jsonl"
        if not answers_file.is_file():
            raise TaskDataError(f"{path}: questions_ja.jsonl without answers_gpt4.jsonl (the references)")
        # GPT-4's answers are an answers file: read by the one answers reader (errors name file:line)
        references = {
            qid: p.text for qid, p in read_answer_file(answers_file, self.languages, "text").answers.items()
        }
        images = path / "images" if (path / "images").is_dir() else path
        for i, row in enumerate(questions):
            where = f"{path}/questions_ja.jsonl line {i + 1}"
            qid = str(column(row, "question_id", where))
            if qid not in references:
                raise TaskDataError(f"{where}: question {qid} has no reference in answers_gpt4.jsonl")
            yield self._item(
                row, image_value(column(row, "image", where), images, where), references[qid], where
            )

    def _item(self, row: dict[str, Any], image: str | bytes, reference: str | None, where: str) -> EvalItem:
        return EvalItem(
            question_id=str(column(row, "question_id", where)),
            task=self.name,
            prompt=str(column(row, "text", where)),
            images=(image,),
            reference=reference,
            category=str(column(row, "category", where)),
            language="ja",
            meta={"context": row.get("context", ""), "image_category": row.get("image_category", "")},
        )

"""LLaVA-Bench (In-the-Wild): 60 questions on 24 images (conv / detail / complex), judged relative to GPT-4's
answers with the image's human caption as context (llava_judge).

Two local layouts:
- the hub table (lmms-lab): `question_id, question, image, caption, gpt_answer, category, image_id`;
- the repository files (liuhaotian/llava-bench-in-the-wild, and Heron's Japanese translation in
  turingmotors/heron `playground/data/llava-bench-in-the-wild/ja/`): `questions[_ja].jsonl`
  (`question_id, image, category, text`, Heron's adds the Japanese `jp`), `answers_gpt4[_ja].jsonl`
  (GPT-4's answers, read by the answers reader: Heron's `jp` beside the English `text`), `context[_ja].jsonl`
  (`image, caption`, Heron's adds `caption_jp`), images in `images/` beside the files or one folder up
  (Heron keeps them in `llava-bench-in-the-wild/images/`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from polyvlm.eval.answer_files import read_answer_file, read_json_lines
from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows


def images_dir(path: Path) -> Path:
    """Where a repository layout's images are: `images/` beside the files, one folder up, else the folder."""
    for candidate in (path / "images", path.parent / "images"):
        if candidate.is_dir():
            return candidate
    return path


@register_task
class LlavaBenchInTheWild(Task):
    """LLaVA-Bench (In-the-Wild), English."""

    name = "llava-bench-in-the-wild"
    description = "60 questions on 24 diverse images (conv/detail/complex); judge-relative score"
    languages: ClassVar[tuple[str, ...]] = ("en",)
    default_metrics = ("llava_judge",)
    hub_name = "lmms-lab/llava-bench-in-the-wild"
    # the repository layout: file names, and the question and caption fields of this language
    repo_files: ClassVar[tuple[str, str, str]] = ("questions.jsonl", "answers_gpt4.jsonl", "context.jsonl")
    question_field: ClassVar[str] = "text"
    caption_field: ClassVar[str] = "caption"

    def load(self, source: str) -> Iterator[EvalItem]:
        """Items from the repository files or the hub table."""
        path = Path(source)
        if path.is_dir() and (path / self.repo_files[0]).is_file():
            yield from self._load_repo_layout(path)
            return
        rows, base = read_rows(source, split="train")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            yield EvalItem(
                question_id=str(column(row, "question_id", where)),
                task=self.name,
                prompt=str(column(row, "question", where)),
                images=(image_value(column(row, "image", where), base, where),),
                reference=str(column(row, "gpt_answer", where)),
                category=str(row.get("category", "")),
                language=self.languages[0],
                meta={"context": row.get("caption", ""), "image_id": row.get("image_id", "")},
            )

    def _load_repo_layout(self, path: Path) -> Iterator[EvalItem]:
        questions_file, answers_file, context_file = (path / name for name in self.repo_files)
        for needed in (answers_file, context_file):
            if not needed.is_file():
                raise TaskDataError(f"{path}: {questions_file.name} without {needed.name} beside it")
        references = read_answer_file(answers_file, self.languages).answers
        captions = {}
        for n, row in read_json_lines(context_file)[0]:  # Heron's file lists some images twice, alike
            where = f"{context_file}:{n}"
            captions[str(column(row, "image", where))] = str(column(row, self.caption_field, where))
        images = images_dir(path)
        for n, row in read_json_lines(questions_file)[0]:
            where = f"{questions_file}:{n}"
            qid = str(column(row, "question_id", where))
            image = str(column(row, "image", where))
            if qid not in references:
                raise TaskDataError(f"{where}: question {qid} has no reference answer in {answers_file.name}")
            if image not in captions:
                raise TaskDataError(f"{where}: image {image} has no caption in {context_file.name}")
            yield EvalItem(
                question_id=qid,
                task=self.name,
                prompt=str(column(row, self.question_field, where)),
                images=(image_value(image, images, where),),
                reference=references[qid].text,
                category=str(row.get("category", "")),
                language=self.languages[0],
                meta={"context": captions[image], "image_id": image.rsplit(".", 1)[0]},
            )


@register_task
class LlavaBenchInTheWildJa(LlavaBenchInTheWild):
    """LLaVA-Bench (In-the-Wild), Japanese translation (the hub table's columns, or Heron's files)."""

    name = "llava-bench-in-the-wild-ja"
    description = "LLaVA-Bench (In-the-Wild) in Japanese; judge-relative score"
    languages = ("ja",)
    hub_name = ""
    repo_files = ("questions_ja.jsonl", "answers_gpt4_ja.jsonl", "context_ja.jsonl")
    question_field = "jp"
    caption_field = "caption_jp"

"""LLaVA-Bench (COCO): 90 questions on 30 COCO val2014 images (conv / detail / complex), judged relative to
GPT-4's answers with the image's COCO captions and boxes as context (llava_judge); English and Japanese.

Local layout of the LLaVA / Heron repositories: `qa90_questions*.jsonl` (`question_id, image, text,
category`, Heron's adds `text_JA`), `qa90_gpt4_answer*.jsonl` (`question_id, text[, text_JA]`),
`caps_boxes_coco2014_val_80.jsonl` or `captions_boxes_coco2014_val_80.jsonl` (`id, captions, instances`),
images as `COCO_val2014_<image>` in the directory or its `images/`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from polyvlm.eval.answer_files import read_answer_file
from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows


def _one(path: Path, pattern: str) -> Path:
    found = sorted(path.glob(pattern))
    if not found:
        raise TaskDataError(f"{path}: no file {pattern}")
    return found[0]


def context_of(entry: dict[str, Any]) -> str:
    """LLaVA's judge context: the captions, then one `category: [x1, y1, x2, y2]` line per box."""
    lines = list(entry.get("captions", []))
    lines += [f"{b['category']}: {b['bbox']}" for b in entry.get("instances", [])]
    return "\n".join(lines)


@register_task
class LlavaBenchCoco(Task):
    """LLaVA-Bench (COCO), English."""

    name = "llava-bench-coco"
    description = "90 questions on 30 COCO images (conv/detail/complex); judge-relative score"
    languages: ClassVar[tuple[str, ...]] = ("en",)
    default_metrics = ("llava_judge",)
    text_field: ClassVar[str] = "text"

    def load(self, source: str) -> Iterator[EvalItem]:
        """Questions joined with their reference answers and context, by question_id."""
        path = Path(source)
        if not path.is_dir():
            raise TaskDataError(f"{source}: expected the LLaVA-Bench (COCO) directory")
        questions, _ = read_rows(_one(path, "qa90_questions*.jsonl"))
        # GPT-4's answers are an answers file: read by the one answers reader (errors name file:line)
        answers = read_answer_file(
            _one(path, "qa90_gpt4_answer*.jsonl"), self.languages, self.text_field
        ).answers
        contexts = {
            str(r["id"]): context_of(r) for r in read_rows(_one(path, "ca*_boxes_coco2014_val_80.jsonl"))[0]
        }
        images = path / "images" if (path / "images").is_dir() else path
        for i, row in enumerate(questions):
            where = f"{source} question {i}"
            qid = str(column(row, "question_id", where))
            if qid not in answers:
                raise TaskDataError(f"{where}: question {qid} has no GPT-4 answer")
            image = str(column(row, "image", where))
            yield EvalItem(
                question_id=qid,
                task=self.name,
                prompt=str(column(row, self.text_field, where)),
                images=(str(images / f"COCO_val2014_{image}"),),
                reference=answers[qid].text,
                category=str(row.get("category", "")),
                language=self.languages[0],
                meta={"context": contexts.get(image.rsplit(".", 1)[0], ""), "image": image},
            )


@register_task
class LlavaBenchCocoJa(LlavaBenchCoco):
    """LLaVA-Bench (COCO), Japanese (Heron's DeepL translation: the `text_JA` fields)."""

    name = "llava-bench-coco-ja"
    description = "LLaVA-Bench (COCO) in Japanese (Heron's translation); judge-relative score"
    languages = ("ja",)
    text_field = "text_JA"

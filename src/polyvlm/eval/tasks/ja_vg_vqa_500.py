"""JA-VG-VQA-500 (Sakana AI): 500 Visual Genome images with Japanese QA pairs; every pair is an item
(as llm-jp-eval-mm flattens them), its id the pair's `qa_id`.

Hub table columns: `image_id, image, qas` where `qas` is a list of `{qa_id, question, answer}`."""

from __future__ import annotations

import json
from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import TaskDataError, column, read_rows


@register_task
class JaVGVQA500(Task):
    """JA-VG-VQA-500: short Japanese answers; every QA pair of an image is scored."""

    name = "ja-vg-vqa-500"
    description = "500 Visual Genome images, every Japanese QA pair an item; ROUGE-L (ja) and LLM judge 1-5"
    languages = ("ja",)
    default_metrics = ("rougel", "llm_judge_vila")
    hub_name = "SakanaAI/JA-VG-VQA-500"

    def load(self, source: str) -> Iterator[EvalItem]:
        """Every QA pair of every image, in row then pair order."""
        rows, base = read_rows(source, split="test")
        for i, row in enumerate(rows):
            where = f"{source} row {i}"
            qas = column(row, "qas", where)
            if isinstance(qas, str):  # a JSONL/TSV export may carry the list as a JSON string
                qas = json.loads(qas)
            if not isinstance(qas, list):
                raise TaskDataError(f"{where}: qas is not a list")
            image = image_value(column(row, "image", where), base, where)
            for qa in qas:
                yield EvalItem(
                    question_id=str(column(qa, "qa_id", where)),
                    task=self.name,
                    prompt=str(column(qa, "question", where)),
                    images=(image,),
                    reference=str(column(qa, "answer", where)),
                    language="ja",
                    group=str(row.get("image_id", i)),
                    meta={"image_id": row.get("image_id", i)},
                )

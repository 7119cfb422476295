"""Jagle's five data categories, and which category each task the project makes belongs to.

Jagle (and the card, and a mixture that weighs categories) sorts training samples into General VQA,
Chart/Table, Captioning/Knowledge, OCR QA and Naive OCR. The task a generator writes decides the category;
this table is the one place that says which. A sample keeps a category it already carries (a chart
step sets `chart_table` itself); `set_category` fills it from the task otherwise.

| task | category | why |
|---|---|---|
| `render_page` | `ocr_qa` | questions about a rendered page's text (transcription, heading, cell, line after X) |
| `page_qa` | `ocr_qa` | reading questions about a PDF page, checked against its text layer |
| `photo_text_qa` | `ocr_qa` | questions about the text in a photo |
| `ocr_qa` | `ocr_qa` | position questions about a real photo's text (ocr_photo_data) |
| `synth_ocr` | `naive_ocr` | transcribe a synthdog-style image |
| `naive_ocr` | `naive_ocr` | transcribe a real photo's text (ocr_photo_data) |
| `pdf_page` | `naive_ocr` | a PDF page and its text layer |
| `chart_qa`, `table_qa` | `chart_table` | QA computed from a chart's or table's data |
| `captions`, `llava_detail` | `captioning_knowledge` | describe the image |
| `photo_qa`, `pair_qa`, `vqa`, `vqa_conversation`, `llava_conversation`, `llava_complex` | `general_vqa` | questions about what the image shows |
"""

from __future__ import annotations

from polyvlm.core.records import Record, Sample
from polyvlm.core.step import MapStep, Params, register

CATEGORIES = ("general_vqa", "chart_table", "captioning_knowledge", "ocr_qa", "naive_ocr")

TASK_CATEGORY: dict[str, str] = {
    "render_page": "ocr_qa",
    "page_qa": "ocr_qa",
    "photo_text_qa": "ocr_qa",
    "ocr_qa": "ocr_qa",
    "synth_ocr": "naive_ocr",
    "naive_ocr": "naive_ocr",
    "pdf_page": "naive_ocr",
    "chart_qa": "chart_table",
    "table_qa": "chart_table",
    "captions": "captioning_knowledge",
    "llava_detail": "captioning_knowledge",
    "photo_qa": "general_vqa",
    "pair_qa": "general_vqa",
    "vqa": "general_vqa",
    "vqa_conversation": "general_vqa",
    "llava_conversation": "general_vqa",
    "llava_complex": "general_vqa",
}


def category_of(sample: Sample) -> str:
    """The sample's category: the one it carries, else its task's ("" for a task not in the table)."""
    carried = sample.metadata.get("category")
    if isinstance(carried, str) and carried in CATEGORIES:
        return carried
    return TASK_CATEGORY.get(sample.task, "")


def set_category(sample: Sample) -> Sample:
    """The sample with `metadata["category"]` set from its task (kept when it already has one)."""
    category = category_of(sample)
    if category:
        sample.metadata["category"] = category
    return sample


@register
class Categorize(MapStep):
    """Set `metadata.category` on every sample from its task (for samples a reader made, not a generator)."""

    name = "categorize"
    Params = Params

    def metrics(self) -> dict[str, float]:
        return {"uncategorized": getattr(self, "_uncategorized", 0)}

    def apply(self, record: Record) -> Record:
        if isinstance(record, Sample) and not set_category(record).metadata.get("category"):
            self._uncategorized = getattr(self, "_uncategorized", 0) + 1  # a task the table lacks: counted
        return record

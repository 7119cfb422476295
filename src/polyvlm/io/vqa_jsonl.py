"""read_vqa: an existing VQA set (JSONL of {image, question, answer}) as one multi-turn Sample per image.

All QA pairs of one image within a file become ONE conversation, in file order (the image's first row
fixes the sample's place); the first question carries the `<image>` marker. A file is held in memory
while it is grouped, since one image's rows need not be adjacent. `vqa_to_conv` then adds the
short-answer instruction of the target language.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

from polyvlm.core.records import ImageRef, Provenance, Record, Sample, qa_messages
from polyvlm.core.step import Params, ReadIssue, ReadStep, register


class ReadVqaParams(Params):
    """Parameters of read_vqa."""

    images_dir: str = ""
    """folder the `image` names are relative to (empty: the folder of the JSONL file)"""
    license: str = ""
    """licence of the VQA set, recorded in every sample's provenance"""


def vqa_answer(value: Any) -> str:
    """The answer of a row: a string, or the most frequent of a list of annotators' answers (first on ties)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        answers = [a.strip() for a in value if isinstance(a, str) and a.strip()]
        return Counter(answers).most_common(1)[0][0] if answers else ""
    return ""


def group_vqa_rows(rows: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """(question, answer) pairs per image name, images in order of first appearance, pairs in file order."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        groups.setdefault(row["image"], []).append((row["question"].strip(), vqa_answer(row["answer"])))
    return groups


def _row_problem(row: Any) -> str:
    if not isinstance(row, dict):
        return "not an object"
    for key in ("image", "question"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            return f"no {key!r}"
    return "" if vqa_answer(row.get("answer")) else "no 'answer'"


@register
class ReadVqa(ReadStep):
    """Read a VQA JSONL ({image, question, answer}); all pairs of an image in a file become one Sample."""

    name = "read_vqa"
    Params = ReadVqaParams
    extensions = ()  # shares .jsonl with read_jsonl: a recipe names it as `reader: read_vqa`

    def read(self, path: str) -> Iterator[Record | ReadIssue]:
        rows: list[dict[str, Any]] = []
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as e:
                    yield ReadIssue("error", "bad_json", f"{path}:{lineno}: {e}", lineno)
                    continue
                problem = _row_problem(row)
                if problem:  # one bad row goes, its image's other pairs stay
                    yield ReadIssue("error", "bad_vqa_row", f"{path}:{lineno}: {problem}", lineno)
                    continue
                rows.append(row)
        images_dir = self.params.images_dir or os.path.dirname(path)
        for image, pairs in group_vqa_rows(rows).items():
            stem = os.path.splitext(os.path.basename(image))[0]
            yield Sample(
                id=hashlib.sha1(f"{path}\x00{image}".encode()).hexdigest()[:20],
                images=[ImageRef(path=os.path.join(images_dir, image))],
                messages=qa_messages(pairs),
                task="vqa",
                metadata={"image_id": stem, "qa_pairs": len(pairs)},
                provenance=Provenance(source=path, license=self.params.license, record_id=image),
            )

"""read_coco_captions: COCO-style captions and boxes (JSONL) as one Sample per image, for LLaVA-style synthesis.

A line: {"id": "000000441147", "image": "000000441147.jpg", "captions": ["...", ...],
"instances": [{"category": "suitcase", "bbox": [x1, y1, x2, y2]}, ...]} with boxes normalised to 0..1
(the format of LLaVA's caps_boxes_coco2014_val_80.jsonl). The sample carries the image path and, in its
metadata, the captions and instances the text-only generator reads instead of the image.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from polyvlm.core.records import ImageRef, Provenance, Record, Sample
from polyvlm.core.step import Params, ReadIssue, ReadStep, register


class ReadCocoCaptionsParams(Params):
    """Parameters of read_coco_captions."""

    images_dir: str = ""
    """folder the `image` names are relative to (empty: the folder of the JSONL file)"""
    license: str = ""
    """licence of the captions and images, recorded in every sample's provenance (COCO: CC-BY-4.0)"""
    require_image: bool = True
    """a row whose image file does not exist is a counted error (image_missing), before any model is paid
    to write about it: a conversation about an image training cannot open is lost at the next joint"""


def coco_row_problem(row: Any) -> str:
    """What is wrong with a captions-and-boxes row ('' when it is usable)."""
    if not isinstance(row, dict):
        return "not an object"
    if not isinstance(row.get("image"), str) or not row["image"]:
        return "no 'image' file name"
    captions = row.get("captions")
    if (
        not isinstance(captions, list)
        or not captions
        or not all(isinstance(c, str) and c.strip() for c in captions)
    ):
        return "'captions' must be a non-empty list of non-empty strings"
    for inst in row.get("instances") or []:
        box = inst.get("bbox") if isinstance(inst, dict) else None
        if not (isinstance(inst, dict) and isinstance(inst.get("category"), str) and isinstance(box, list)):
            return "an instance needs 'category' and 'bbox'"
        if len(box) != 4 or not all(isinstance(v, int | float) and 0 <= v <= 1 for v in box):
            return f"bbox {box!r} is not 4 numbers in 0..1 (normalised x1, y1, x2, y2)"
    return ""


@register
class ReadCocoCaptions(ReadStep):
    """Read COCO-style captions + normalised boxes (JSONL), one Sample per image; bad lines are counted errors."""

    name = "read_coco_captions"
    Params = ReadCocoCaptionsParams
    extensions = ()  # shares .jsonl with read_jsonl: a recipe names it as `reader: read_coco_captions`

    def read(self, path: str) -> Iterator[Record | ReadIssue]:
        images_dir = self.params.images_dir or os.path.dirname(path)
        with open(path, "rb") as f:
            offset = 0
            for lineno, line in enumerate(f, 1):
                start, offset = offset, offset + len(line)
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as e:
                    yield ReadIssue("error", "bad_json", f"{path}:{lineno}: {e}", start)
                    continue
                problem = coco_row_problem(row)
                if problem:
                    yield ReadIssue("error", "bad_coco_row", f"{path}:{lineno}: {problem}", start)
                    continue
                image_id = str(row.get("id") or os.path.splitext(row["image"])[0])
                image_path = os.path.join(images_dir, row["image"])
                if self.params.require_image and not os.path.isfile(image_path):
                    yield ReadIssue("error", "image_missing", f"{path}:{lineno}: {image_path}", start)
                    continue
                yield Sample(
                    id=image_id,
                    images=[ImageRef(path=image_path)],
                    task="captions",
                    metadata={
                        "image_id": image_id,
                        "captions": [c.strip() for c in row["captions"]],
                        "instances": [
                            {"category": i["category"], "bbox": [float(v) for v in i["bbox"]]}
                            for i in row.get("instances") or []
                        ],
                    },
                    provenance=Provenance(
                        source=path, license=self.params.license, offset=start, record_id=image_id
                    ),
                )

"""EvalItems as a JSONL file (one item a line, images as files beside it): what `eval translate` writes and
a translated task (`mmbench-fr`) reads."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path

from polyvlm.eval.items import EvalItem
from polyvlm.eval.tasks.table_rows import TaskDataError, read_rows

ITEMS_FILE = "items.jsonl"


def _stored_image(image: str | bytes, images_dir: Path, root: Path) -> str:
    """A path relative to `root`: bytes are written once under images/ by their sha256."""
    if isinstance(image, str):
        return os.path.relpath(image, root)
    name = hashlib.sha256(image).hexdigest()[:32]
    path = images_dir / name
    if not path.exists():
        images_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(image)
        tmp.replace(path)
    return os.path.relpath(path, root)


def write_items(items: Iterable[EvalItem], root: Path) -> int:
    """Write items to root/items.jsonl (atomically) and their byte images to root/images/; the count."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / (ITEMS_FILE + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for item in items:
            row = asdict(item)
            row["images"] = [_stored_image(im, root / "images", root) for im in item.images]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(root / ITEMS_FILE)
    return n


def read_items(root: Path, task: str) -> Iterator[EvalItem]:
    """The items of root/items.jsonl, images resolved against root, renamed to `task`."""
    path = root / ITEMS_FILE
    if not path.is_file():
        raise TaskDataError(f"{root}: no {ITEMS_FILE} (write one with `polyvlm eval translate`)")
    rows, _ = read_rows(path)
    for i, row in enumerate(rows):
        try:
            reference = row.get("reference")
            yield EvalItem(
                **{
                    **row,
                    "task": task,
                    "images": tuple(str(root / p) for p in row.get("images", [])),
                    "reference": tuple(reference) if isinstance(reference, list) else reference,
                }
            )
        except TypeError as e:
            raise TaskDataError(f"{path}:{i + 1}: not an item: {e}") from e

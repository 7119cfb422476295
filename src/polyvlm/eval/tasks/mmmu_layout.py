"""The MMMU hub layout, read by mmmu and jmmmu (and its `options` cell by cvqa and mecha-ja): `options` is a
list or a Python list literal in a string; the images sit in `image_1 … image_7` and the text names them
as `<image N>`."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from polyvlm.eval.tasks.image_values import image_value
from polyvlm.eval.tasks.table_rows import TaskDataError

IMAGE_REF = re.compile(r"<image ?(\d)>")


def parse_options(value: object, where: str) -> list[str]:
    """MMMU's `options`: a list, or a string holding a Python list literal."""
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = ast.literal_eval(str(value)) if value not in (None, "") else []
    except (ValueError, SyntaxError) as e:
        raise TaskDataError(f"{where}: options is not a list literal: {value!r}") from e
    return [str(v) for v in parsed]


def shown_images(row: dict[str, Any], text: str, base: Path, where: str) -> tuple[str | bytes, ...]:
    """The images in the order the text names them; every image of the row, in column order, when it
    names none."""
    refs = list(dict.fromkeys(IMAGE_REF.findall(text)))
    if not refs:
        refs = [str(n) for n in range(1, 8) if row.get(f"image_{n}") not in (None, "", {})]
    images = []
    for n in refs:
        cell = row.get(f"image_{n}")
        if cell in (None, "", {}):
            raise TaskDataError(f"{where}: the question shows <image {n}> but image_{n} is empty")
        images.append(image_value(cell, base, where))
    return tuple(images)

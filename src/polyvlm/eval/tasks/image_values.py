"""An image cell of a benchmark table as an EvalItem image: a file path, or the encoded bytes."""

from __future__ import annotations

import base64
import binascii
import io
from pathlib import Path
from typing import Any

from polyvlm.eval.tasks.table_rows import TaskDataError


def image_value(value: Any, base_dir: Path, where: str) -> str | bytes:
    """A path (relative ones resolved against `base_dir`) or bytes, from a datasets Image cell
    ({bytes, path}), raw bytes, a PIL image, a base64 string (MMBench TSVs) or a file name."""
    if isinstance(value, dict):
        if value.get("bytes"):
            return bytes(value["bytes"])
        if value.get("path"):
            return _path(value["path"], base_dir)
        raise TaskDataError(f"{where}: an empty image cell")
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value:
        # base64 may begin with "/" (every JPEG's does): a long string that is no image file name is base64
        if len(value) > 256 and not value.lower().endswith(_IMAGE_SUFFIXES) and "\n" not in value[:256]:
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as e:
                raise TaskDataError(f"{where}: an image cell that is neither a path nor base64") from e
        return _path(value, base_dir)
    if hasattr(value, "save"):  # a PIL image (a datasets row decoded by someone else)
        buf = io.BytesIO()
        value.convert("RGB").save(buf, format="PNG")
        return buf.getvalue()
    raise TaskDataError(f"{where}: no image (got {type(value).__name__})")


_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp")


def _path(name: str, base_dir: Path) -> str:
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    # a missing file is not an error here: scoring existing predictions needs no image; the run
    # checks every item's images before asking the model and excludes the item with a reason
    return str(path)


def images_in(row: dict[str, Any], names: list[str], base_dir: Path, where: str) -> tuple[str | bytes, ...]:
    """The non-empty image columns among `names`, in that order (MMMU's image_1..image_7)."""
    return tuple(image_value(row[n], base_dir, where) for n in names if row.get(n) not in (None, "", {}))

"""An evaluation set to keep out of training data: its image ids and the perceptual hashes of its images.

Ids come from JSONL (or JSON list) files whose rows name an image (LLaVA-Bench's qa90_questions.jsonl,
Heron-Bench's questions_ja.jsonl) and from the eval image files themselves; hashes from the image files
found. Loaded once per process (setup) and cached, since several steps may name the same set.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from polyvlm.core.errors import RecipeError
from polyvlm.core.step import Drop
from polyvlm.image.decode import decode
from polyvlm.image.phash import phash
from polyvlm.synth.image_ids import normalize_image_id


@dataclass(frozen=True)
class EvalSet:
    """The ids and 64-bit pHashes of an evaluation set's images."""

    name: str
    ids: frozenset[str]
    hashes: np.ndarray  # uint64, one per eval image
    hash_ids: tuple[str, ...]  # the image id of each hash

    def nearest(self, hex_hash: str) -> tuple[int, str]:
        """(Hamming distance, image id) of the eval image closest to a hash; (65, '') for an empty set."""
        if not len(self.hashes):
            return 65, ""
        distances = np.bitwise_count(self.hashes ^ np.uint64(int(hex_hash, 16)))
        k = int(np.argmin(distances))
        return int(distances[k]), self.hash_ids[k]


def image_phash(data: bytes) -> str | Drop:
    """The 64-bit pHash (16 hex digits) of image bytes, decoded safely; a Drop for bytes that are no image."""
    decoded = decode(data)
    if isinstance(decoded, Drop):
        return decoded
    return phash(decoded.pixels, decoded.pixels_box, decoded.transpose)


def expand_globs(patterns: tuple[str, ...], what: str) -> list[str]:
    """The files each pattern matches (sorted); a pattern matching nothing is a recipe error."""
    files: list[str] = []
    for pattern in patterns:
        found = sorted(f for f in glob.glob(pattern, recursive=True) if os.path.isfile(f))
        if not found:
            raise RecipeError(
                f"{what} {pattern!r} matches no file (relative paths are taken from {os.getcwd()})"
            )
        files.extend(found)
    return files


def listed_images(path: str, field: str) -> list[str]:
    """The image names the rows of a JSONL or JSON-list file give in `field` (a name or a list of names)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    rows: list[Any]
    if path.endswith(".json"):
        rows = json.loads(text)
        rows = rows if isinstance(rows, list) else [rows]
    else:
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    names: list[str] = []
    for row in rows:
        value = row.get(field) if isinstance(row, dict) else None
        names.extend(
            v for v in ([value] if isinstance(value, str | int) else value or []) if isinstance(v, str | int)
        )
    return [str(n) for n in names]


@lru_cache(maxsize=8)
def load_eval_set(
    name: str, files: tuple[str, ...], images: tuple[str, ...], field: str = "image"
) -> EvalSet:
    """Read an evaluation set: ids from the listing files and the image files, hashes from the image files."""
    ids = set()
    for path in expand_globs(files, f"eval set {name!r}: file"):
        try:
            listed = listed_images(path, field)
        except (OSError, ValueError) as e:
            raise RecipeError(f"eval set {name!r}: cannot read {path}: {e}") from None
        if not listed:
            raise RecipeError(f"eval set {name!r}: {path} names no image in field {field!r}")
        ids.update(normalize_image_id(n) for n in listed)
    hashes, hash_ids = [], []
    for path in expand_globs(images, f"eval set {name!r}: images"):
        with open(path, "rb") as f:
            h = image_phash(f.read())
        if isinstance(h, Drop):
            raise RecipeError(f"eval set {name!r}: {path} is not a readable image ({h.reason})")
        image_id = normalize_image_id(path)
        ids.add(image_id)
        hashes.append(int(h, 16))
        hash_ids.append(image_id)
    return EvalSet(name, frozenset(ids), np.array(hashes, dtype=np.uint64), tuple(hash_ids))

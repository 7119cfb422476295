"""Images held only as bytes (rendered pages, decoded crops) stored as files beside a conversation file.

LLaVA JSON and messages JSONL name images by path; an image with bytes but no path or URL would be named
by its sha256 alone, which no trainer can open. It is written once, content-addressed, as
``images/<sha256>.<ext>`` in the writer's folder, and the record names that file (relative to the JSON).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os

from polyvlm.core.records import ImageRef, Sample
from polyvlm.io.atomic import write_atomic
from polyvlm.io.image_format import file_extension, sniff_format

IMAGES_DIR = "images"


def image_extension(data: bytes) -> str:
    """The file extension for encoded image bytes, from their magic bytes ('bin' if not an image)."""
    return file_extension(sniff_format(data))


def stored_image(image: ImageRef, folder: str) -> ImageRef:
    """The image with a path: its bytes written to folder/<sha256>.<ext> when it had only bytes."""
    if image.path or image.url or image.data is None:
        return image
    sha = image.sha256 or hashlib.sha256(image.data).hexdigest()
    path = os.path.join(folder, f"{sha}.{image_extension(image.data)}")
    if not os.path.exists(path):  # content-addressed: a re-run or another shard wrote the same bytes
        write_atomic(path, image.data)
    return dataclasses.replace(image, path=path, sha256=sha)


def with_image_files(sample: Sample, folder: str) -> Sample:
    """The sample with every bytes-only image stored as a file (the sample itself is not changed)."""
    if all(im.path or im.url or im.data is None for im in sample.images):
        return sample
    return dataclasses.replace(sample, images=[stored_image(im, folder) for im in sample.images])

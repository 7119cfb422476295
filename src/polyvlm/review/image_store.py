"""The project's own image store: images copied in at init as JPEG/PNG/WebP/GIF under their sha256.

The web app serves only names of this exact shape from this folder, so a request can never reach another
file (no path traversal), and every image was decoded with a pixel cap before it was stored.
"""

from __future__ import annotations

import hashlib
import os
import re

from polyvlm.core.records import ImageRef
from polyvlm.core.step import Drop
from polyvlm.image.decode import decode, to_jpeg
from polyvlm.review.private_files import write_private

IMAGES_DIR = "images"
NAME = re.compile(r"^[0-9a-f]{64}\.jpg$")


def images_dir(project: str) -> str:
    """The folder holding a project's images."""
    return os.path.join(project, IMAGES_DIR)


def find_image_bytes(ref: ImageRef, search_dirs: list[str]) -> bytes | str:
    """An image's bytes (held, or read from its path under one of `search_dirs`), or why there are none."""
    if ref.data:
        return ref.data
    if not ref.path:
        return "image_remote" if ref.url else "image_without_location"
    candidates = [ref.path] if os.path.isabs(ref.path) else [os.path.join(d, ref.path) for d in search_dirs]
    for c in candidates:
        if os.path.isfile(c):
            with open(c, "rb") as f:
                return f.read()
    return "image_missing"


def store_image(project: str, data: bytes) -> str | Drop:
    """Decode (pixel-capped), re-encode as an upright JPEG and store under its sha256; the stored name."""
    decoded = decode(data)
    if isinstance(decoded, Drop):
        return decoded
    jpeg = to_jpeg(data)
    if isinstance(jpeg, Drop):
        return jpeg
    body = data if jpeg is None else jpeg[0]
    name = hashlib.sha256(body).hexdigest() + ".jpg"
    path = os.path.join(images_dir(project), name)
    if not os.path.exists(path):
        write_private(path, body)
    return name


def stored_image_path(project: str, name: str) -> str | None:
    """The file of a stored image name, or None when the name is not one the store could have made."""
    if not NAME.fullmatch(name):
        return None
    root = os.path.realpath(images_dir(project))
    path = os.path.realpath(os.path.join(root, name))
    if os.path.dirname(path) != root or not os.path.isfile(path):
        return None
    return path

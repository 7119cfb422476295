"""The image of a sample as a data: URL for a vision-language model: its own bytes, or a smaller JPEG."""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageOps

from polyvlm.core.records import ImageRef
from polyvlm.core.step import Drop
from polyvlm.image.decode import decode

_MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def image_bytes(image: ImageRef) -> bytes | Drop:
    """The bytes of an image held in the record or on local disk (steps never fetch URLs themselves)."""
    if image.data is not None:
        return image.data
    if not image.path:
        return Drop("image_unavailable", image.url or "no data and no path")
    try:
        with open(image.path, "rb") as f:
            return f.read()
    except OSError as e:
        return Drop("image_unreadable", f"{image.path}: {e.strerror or e}")


def image_data_url(data: bytes, max_side: int) -> str | Drop:
    """A data: URL of validated image bytes; re-encoded as JPEG when too large or not jpeg/png/webp."""
    decoded = decode(data, formats=("jpeg", "png", "webp", "gif"))  # pixel cap, bad bytes become a Drop
    if isinstance(decoded, Drop):
        return decoded
    mime = _MIME.get(decoded.source_format)
    if mime and max(decoded.width, decoded.height) <= max_side and decoded.transpose is None:
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    # too large, rotated by EXIF (endpoints differ in honouring it) or a GIF: an upright JPEG within max_side
    with Image.open(io.BytesIO(data)) as im:
        im = ImageOps.exif_transpose(im)
        im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        im.convert("RGB").save(out, "JPEG", quality=90)
    return f"data:image/jpeg;base64,{base64.b64encode(out.getvalue()).decode('ascii')}"

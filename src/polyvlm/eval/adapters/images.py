"""An item's images for a model: PIL images for local models, data: URLs for endpoints."""

from __future__ import annotations

import base64
import io
import mimetypes
import warnings
from pathlib import Path

from PIL import Image

from polyvlm.io.image_format import mime_type, sniff_format

MAX_PIXELS = 64_000_000  # decompression-bomb cap (the benchmarks' largest images are far below it)


def image_bytes(image: str | bytes) -> bytes:
    """The encoded bytes of an item image (a path is read)."""
    return image if isinstance(image, bytes) else Path(image).read_bytes()


def sniff_mime(data: bytes, name: str = "") -> str:
    """The image's MIME type from its magic bytes (the file name as a fallback)."""
    return mime_type(sniff_format(data)) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def data_url(image: str | bytes) -> str:
    """A data: URL carrying the image's bytes as they are (no re-encoding: the endpoint sees the original)."""
    data = image_bytes(image)
    mime = sniff_mime(data, image if isinstance(image, str) else "")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def pil_image(image: str | bytes) -> Image.Image:
    """An RGB PIL image, decoded with a pixel cap; a clear ValueError for an unreadable one."""
    where = image if isinstance(image, str) else f"{len(image)} bytes"
    try:
        # the cap is checked from the header, before decoding; Pillow's own (process-wide) cap is left alone
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image_bytes(image))) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise ValueError(f"{im.width}x{im.height} is over the {MAX_PIXELS:,}-pixel cap")
                return im.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise ValueError(f"cannot read image {where}: {e}") from e

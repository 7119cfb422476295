"""encode_jpeg: make each pair's image a plain upright JPEG, re-encoding only what is not one already."""

from __future__ import annotations

import hashlib

from pydantic import Field

from polyvlm.core.records import Pair, Record
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.image.decode import DEFAULT_JPEG_QUALITY, to_jpeg


class EncodeJpegParams(Params):
    """Parameters of encode_jpeg."""

    jpeg_quality: int = Field(DEFAULT_JPEG_QUALITY, ge=1, le=100)
    """quality of re-encoded images (a plain RGB or gray JPEG needing no rotation keeps its bytes)"""


@register
class EncodeJpeg(MapStep):
    """Turn PNG/WebP/GIF, CMYK, 16-bit and EXIF-rotated images into upright 8-bit JPEGs (alpha on white)."""

    name = "encode_jpeg"
    Params = EncodeJpegParams

    def apply(self, record: Record) -> Record | Drop:
        if not isinstance(record, Pair):
            return Drop("not_a_pair")
        image = record.image
        if image.data is None:
            return Drop("no_image_data")
        result = to_jpeg(image.data, self.params.jpeg_quality)
        if isinstance(result, Drop):
            return result
        if result is not None:
            # the kept bytes are new: remember which input they came from
            record.metadata["source_sha256"] = hashlib.sha256(image.data).hexdigest()
            record.metadata["source_format"] = image.format
            image.data, image.width, image.height = result
            image.sha256 = hashlib.sha256(image.data).hexdigest()
        image.format = "jpeg"
        return record

"""encode_jpeg: make each image (of a pair, document or sample) a plain upright JPEG, re-encoding only what is not one."""

from __future__ import annotations

import hashlib

from pydantic import Field

from polyvlm.core.records import ImageRef, Pair, Record
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.image.decode import DEFAULT_JPEG_QUALITY, to_jpeg
from polyvlm.image.image_drops import image_drop_metrics, judge_images

REENCODED = (
    "reencoded_images"  # document metadata: [{url, source_sha256, source_format}] of re-encoded images
)


class EncodeJpegParams(Params):
    """Parameters of encode_jpeg."""

    jpeg_quality: int = Field(DEFAULT_JPEG_QUALITY, ge=1, le=100)
    """quality of re-encoded images (a plain RGB or gray JPEG needing no rotation keeps its bytes)"""


@register
class EncodeJpeg(MapStep):
    """Turn PNG/WebP/GIF, CMYK, 16-bit and EXIF-rotated images into upright 8-bit JPEGs (alpha on white), each on its own."""

    name = "encode_jpeg"
    Params = EncodeJpegParams

    def metrics(self) -> dict[str, float]:
        return image_drop_metrics(self)

    def apply(self, record: Record) -> Record | Drop:
        return judge_images(record, lambda image: self._encode(record, image), self)

    def _encode(self, record: Record, image: ImageRef) -> Drop | None:
        """Re-encode one image in place when needed; a Drop when it cannot be."""
        if image.data is None:
            return Drop("no_image_data")
        result = to_jpeg(image.data, self.params.jpeg_quality)
        if isinstance(result, Drop):
            return result
        if result is not None:
            # the kept bytes are new: remember which input they came from
            source = {"source_sha256": hashlib.sha256(image.data).hexdigest(), "source_format": image.format}
            if isinstance(record, Pair):
                record.metadata.update(source)
            else:
                record.metadata.setdefault(REENCODED, []).append({"url": image.url, **source})
            image.data, image.width, image.height = result
            image.sha256 = hashlib.sha256(image.data).hexdigest()
        image.format = "jpeg"
        return None

"""decode_image: decode each image's bytes safely: its size (upright) and perceptual hash, or a drop (per image)."""

from __future__ import annotations

import hashlib

from PIL import Image
from pydantic import Field, field_validator

from polyvlm.core.records import ImageRef, Record
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.image.decode import DEFAULT_FORMATS, DEFAULT_MAX_PIXELS, KNOWN_FORMATS, decode
from polyvlm.image.image_drops import image_drop_metrics, judge_images
from polyvlm.image.phash import phash

_ALIASES = {"jpg": "jpeg", "tif": "tiff", "jp2": "jpeg2000"}


class DecodeImageParams(Params):
    """Parameters of decode_image."""

    max_pixels: int = Field(DEFAULT_MAX_PIXELS, gt=0, le=Image.MAX_IMAGE_PIXELS)
    """drop images with more pixels (too_many_pixels), read from the header; at most Pillow's 89478485"""
    formats: list[str] = list(DEFAULT_FORMATS)
    """formats kept, told by content: jpeg png webp gif bmp tiff ico avif jpeg2000 ppm; else format:<name>"""
    allow_animated: bool = False
    """keep multi-frame GIF/APNG/WebP as their first frame; false: drop them (animated)"""
    phash: bool = True
    """compute the 64-bit perceptual hash into image.phash"""

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, value: list[str]) -> list[str]:
        names = [_ALIASES.get(f.lower(), f.lower()) for f in value]
        unknown = sorted(set(names) - KNOWN_FORMATS)
        if unknown:
            raise ValueError(f"unknown image formats {unknown}; known: {sorted(KNOWN_FORMATS)}")
        return names


@register
class DecodeImage(MapStep):
    """Decode each image safely (pixel cap, format allow-list, EXIF orientation, size, pHash); per image in documents."""

    name = "decode_image"
    Params = DecodeImageParams

    def metrics(self) -> dict[str, float]:
        return image_drop_metrics(self)

    def apply(self, record: Record) -> Record | Drop:
        return judge_images(record, self.decode_one, self)

    def decode_one(self, image: ImageRef) -> Drop | None:
        """Measure and hash one image in place, or say why it cannot be used."""
        if image.data is None:
            return Drop("no_image_data")
        p = self.params
        result = decode(
            image.data,
            max_pixels=p.max_pixels,
            formats=p.formats,
            allow_animated=p.allow_animated,
        )
        if isinstance(result, Drop):
            return result
        if not image.sha256:  # fetch_images hashed these bytes already (its cache key): not twice
            image.sha256 = hashlib.sha256(image.data).hexdigest()
        image.format = result.source_format
        image.width, image.height = result.width, result.height  # as shown: EXIF orientation applied
        if p.phash:
            image.phash = phash(result.pixels, result.pixels_box, result.transpose)
        return None

"""image_size: drop images that are too small or too elongated (a pair goes; a document loses the image)."""

from __future__ import annotations

from pydantic import Field, model_validator

from polyvlm.core.records import ImageRef, Pair, Record
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.image.image_drops import image_drop_metrics, judge_images


class ImageSizeParams(Params):
    """Parameters of image_size (pixels after EXIF orientation, as set by decode_image)."""

    min_side: int = Field(150, ge=1)
    """drop images whose width or height is smaller (too_small)"""
    min_aspect: float = Field(0.5, gt=0)
    """drop images whose width / height is below this (aspect_ratio)"""
    max_aspect: float = Field(2.0, gt=0)
    """drop images whose width / height is above this (aspect_ratio)"""

    @model_validator(mode="after")
    def _ordered(self) -> ImageSizeParams:
        if self.min_aspect > self.max_aspect:
            raise ValueError(f"min_aspect {self.min_aspect} is above max_aspect {self.max_aspect}")
        return self


@register
class ImageSize(MapStep):
    """Drop images with a side under min_side or a width/height outside [min_aspect, max_aspect]; per image in documents."""

    name = "image_size"
    Params = ImageSizeParams

    def metrics(self) -> dict[str, float]:
        return image_drop_metrics(self)

    def apply(self, record: Record) -> Record | Drop:
        return judge_images(record, lambda image: Drop(r) if (r := self.image_reason(image)) else None, self)

    def reject(self, record: Record) -> str | None:
        """Why a pair's image must go, or None (other records: their images are judged one by one in apply)."""
        return self.image_reason(record.image) if isinstance(record, Pair) else None

    def image_reason(self, image: ImageRef) -> str | None:
        """Why one image is too small or too elongated, or None."""
        width, height = image.width, image.height
        if not width or not height:
            return "not_decoded"
        if min(width, height) < self.params.min_side:
            return "too_small"
        if not self.params.min_aspect <= width / height <= self.params.max_aspect:
            return "aspect_ratio"
        return None

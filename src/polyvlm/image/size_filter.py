"""image_size: drop pairs whose image is too small or too elongated."""

from __future__ import annotations

from pydantic import Field, model_validator

from polyvlm.core.records import Pair, Record
from polyvlm.core.step import FilterStep, Params, register


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
class ImageSize(FilterStep):
    """Drop pairs whose image has a side under min_side or a width/height outside [min_aspect, max_aspect]."""

    name = "image_size"
    Params = ImageSizeParams

    def reject(self, record: Record) -> str | None:
        if not isinstance(record, Pair):
            return "not_a_pair"
        width, height = record.image.width, record.image.height
        if not width or not height:
            return "not_decoded"
        if min(width, height) < self.params.min_side:
            return "too_small"
        if not self.params.min_aspect <= width / height <= self.params.max_aspect:
            return "aspect_ratio"
        return None

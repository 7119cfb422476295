"""image_count: a document rule — keep documents with between min_images and max_images images."""

from __future__ import annotations

from pydantic import Field

from polyvlm.core.records import Document, Record
from polyvlm.core.step import FilterStep, Params, register


class ImageCountParams(Params):
    """Parameters of image_count."""

    min_images: int = Field(2, ge=0)
    """fewer images than this: too_few_images (the paper's 2)"""
    max_images: int = Field(5, ge=0)
    """more images than this: too_many_images (the paper's 5)"""


@register
class ImageCount(FilterStep):
    """Drop documents with fewer than min_images or more than max_images images (counted after the image rules)."""

    name = "image_count"
    Params = ImageCountParams

    def reject(self, record: Record) -> str | None:
        if not isinstance(record, Document):
            return "not_a_document"
        n = len(record.images)
        if n < self.params.min_images:
            return "too_few_images"
        if n > self.params.max_images:
            return "too_many_images"
        return None

"""image_url_filter: keep image URLs with an allowed extension and none of the skip words (each image on its own)."""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

from polyvlm.core.records import ImageRef, Record
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.image.image_drops import image_drop_metrics, judge_images


class ImageUrlFilterParams(Params):
    """Parameters of image_url_filter."""

    extensions: list[str] = [".jpg", ".jpeg", ".png"]
    """allowed extensions of the URL's path (case-insensitive); empty: any"""
    skip_words: list[str] = ["logo", "button", "icon", "plugin", "widget"]
    """drop URLs containing any of these (case-insensitive): site furniture, not photos"""


def url_extension(url: str) -> str:
    """The lower-cased extension of a URL's path ('' when it has none)."""
    return posixpath.splitext(unquote(urlsplit(url).path))[1].lower()


@register
class ImageUrlFilter(MapStep):
    """Drop images whose URL has another extension or contains a skip word (logo, icon, ...): pairs go, documents lose the image."""

    name = "image_url_filter"
    Params = ImageUrlFilterParams

    def setup(self) -> None:
        self._ext = {e.lower() if e.startswith(".") else "." + e.lower() for e in self.params.extensions}
        self._words = [w.lower() for w in self.params.skip_words]

    def metrics(self) -> dict[str, float]:
        return image_drop_metrics(self)

    def judge(self, image: ImageRef) -> Drop | None:
        """Why this image's URL is refused, or None."""
        url = image.url.lower()
        for word in self._words:
            if word in url:
                return Drop(f"url_word:{word}")
        ext = url_extension(url)
        if self._ext and ext not in self._ext:
            return Drop(f"url_extension:{ext or 'none'}")
        return None

    def apply(self, record: Record) -> Record | Drop:
        return judge_images(record, self.judge, self)

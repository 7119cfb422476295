"""image_url_filter: keep image URLs with an allowed extension and none of the skip words."""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

from polyvlm.core.records import Pair, Record
from polyvlm.core.step import FilterStep, Params, register


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
class ImageUrlFilter(FilterStep):
    """Drop pairs whose image URL has another extension or contains a skip word (logo, icon, ...)."""

    name = "image_url_filter"
    Params = ImageUrlFilterParams

    def setup(self) -> None:
        self._ext = {e.lower() if e.startswith(".") else "." + e.lower() for e in self.params.extensions}
        self._words = [w.lower() for w in self.params.skip_words]

    def reject(self, record: Record) -> str | None:
        if not isinstance(record, Pair):
            return "not_a_pair"
        url = record.image.url.lower()
        for word in self._words:
            if word in url:
                return f"url_word:{word}"
        ext = url_extension(url)
        if self._ext and ext not in self._ext:
            return f"url_extension:{ext or 'none'}"
        return None

"""What the render steps share once a picture exists: a page rendered with one browser restart, its ImageRef."""

from __future__ import annotations

import hashlib

from polyvlm.core.records import ImageRef
from polyvlm.core.step import Drop
from polyvlm.render.browser import RenderedPage, RenderFailed, restart_shared_renderer, shared_renderer


def render_or_drop(html: str, width: int, height: int, measure: str = "") -> RenderedPage | Drop:
    """The rendered page; a browser that failed is replaced once, a second failure drops the page."""
    try:
        return shared_renderer().render(html, width, height, measure)
    except RenderFailed:
        restart_shared_renderer()
    try:
        return shared_renderer().render(html, width, height, measure)
    except RenderFailed as e:
        restart_shared_renderer()  # the next page starts on a fresh browser
        return Drop("render_failed", str(e))


def png_image(png: bytes, width: int, height: int) -> ImageRef:
    """A rendered PNG as the image of a sample (bytes, sha256, size)."""
    return ImageRef(
        data=png, sha256=hashlib.sha256(png).hexdigest(), width=width, height=height, format="png"
    )

"""Where each <img> stands among a page's text segments: a marker text before each image, found again after extraction.

Before the text is extracted, a marker (private-use characters around the image's number) goes into the DOM
right before each kept <img>. The extractor keeps it where the image stood; afterwards each marker is taken
out of the text and its image gets `segment_index` = the segment that follows it (an image inside a
paragraph goes after that paragraph: a paragraph is never cut). An image whose marker did not survive
(boilerplate removal, main-content extraction) keeps `segment_index = None`: it is not in the page's text.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from polyvlm.core.records import ImageRef

OPEN, CLOSE = "\ue000", "\ue001"  # private-use characters: never in a page's own text we keep
_MARKER = re.compile(f"{OPEN}(\\d+){CLOSE}")


def mark_images(tree: LexborHTMLParser, images: list[ImageRef]) -> None:
    """Insert a marker before each <img> node whose DOM position is one of the images' (in place)."""
    wanted = {im.dom_index: k for k, im in enumerate(images)}
    root = tree.root
    if root is None:
        return
    for position, node in enumerate(root.traverse(include_text=False)):
        if node.tag == "img" and position in wanted:
            node.insert_before(f"{OPEN}{wanted[position]}{CLOSE}")


def place_images(segments: list[str], images: list[ImageRef]) -> list[str]:
    """Take the markers out of the segments, set each marked image's segment_index; the segments without markers."""
    out: list[str] = []
    for segment in segments:
        found = [int(m) for m in _MARKER.findall(segment)]
        text = _MARKER.sub("", segment).strip()
        before_next = len(out) + (1 if text else 0)
        if text:
            out.append(text)
        for k in found:
            if 0 <= k < len(images):
                # a marker opening its segment stands before that segment's text
                images[k].segment_index = len(out) - 1 if text and segment.startswith(OPEN) else before_next
    return out

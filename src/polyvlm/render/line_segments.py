"""A ground-truth line cut into the segments a reader sees: leader dots and wide gaps separate them.

A table-of-contents line (第1章 はじめに……………1) is two short texts far apart with a run of dots
between them; a recogniser given the whole box reads the dots and loses the texts. The gate reads such
a line per segment instead (render/ocr_gate.py): these are the segments it matches OCR boxes to.
"""

from __future__ import annotations

import re

# three or more leader characters (dots, ellipses, middle dots, full-width periods), spaces between allowed
LEADER = re.compile(r"(?:[.．・･·‥…⋯]\s*){3,}")
# two or more blanks (ideographic spaces, non-breaking spaces): a gap a reader treats as a column break
WIDE_GAP = re.compile(r"[\s\u3000\u00a0]{2,}")


def segments(text: str) -> list[str]:
    """The line's texts between leader runs and wide gaps, stripped, empty ones left out."""
    parts = WIDE_GAP.split(LEADER.sub("\u3000\u3000", text))
    return [p.strip() for p in parts if p.strip()]


def is_segmented(text: str) -> bool:
    """Whether the line has leader dots or a wide gap between two texts."""
    return len(segments(text)) > 1 or bool(LEADER.search(text))

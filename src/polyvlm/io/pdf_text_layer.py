"""A PDF page's text layer as lines in reading order, each with its box in pixels of the rendered image.

pdfium gives characters in content-stream order with generated line breaks between them. Horizontal
pages keep that order (a LaTeX two-column page streams column by column). Vertical pages (縦書き) come
out as one line per column, left to right, or even one line per character (the 官報 page): their
characters are regrouped into columns (a character directly below the previous one continues it), the
columns into tiers (bands that overlap vertically) read top to bottom, and each tier right to left.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

SOFT_HYPHEN = "\x02"  # how pdfium marks a hyphen at a line's end that joins a word to the next line


@dataclass(slots=True)
class Char:
    """One character with its box in PDF points (left, bottom, right, top; y grows upwards)."""

    text: str
    left: float
    bottom: float
    right: float
    top: float


@dataclass(slots=True)
class TextLine:
    """One line (a column on a vertical page) of characters in reading order."""

    chars: list[Char]

    @property
    def text(self) -> str:
        """The line's text, outer spaces stripped."""
        return "".join(c.text for c in self.chars).strip()

    def box(self) -> tuple[float, float, float, float]:
        """Union of the inked characters' boxes (left, bottom, right, top) in points."""
        inked = [c for c in self.chars if not c.text.isspace()] or self.chars
        return (
            min(c.left for c in inked),
            min(c.bottom for c in inked),
            max(c.right for c in inked),
            max(c.top for c in inked),
        )


def page_chars(textpage: pdfium.PdfTextPage) -> list[Char | None]:
    """The page's characters in stream order; None marks a line break pdfium generated."""
    out: list[Char | None] = []
    for i in range(textpage.count_chars()):
        code = pdfium_c.FPDFText_GetUnicode(textpage.raw, i)
        if pdfium_c.FPDFText_IsGenerated(textpage.raw, i):
            if chr(code) == "\n":
                out.append(None)
            elif chr(code) == " ":
                out.append(Char(" ", 0, 0, 0, 0))  # a word gap pdfium inferred: text only
            continue
        left, bottom, right, top = textpage.get_charbox(i)
        out.append(Char(chr(code), left, bottom, right, top))
    return out


def stream_lines(chars: list[Char | None]) -> list[TextLine]:
    """Lines split at pdfium's generated line breaks, blank ones dropped."""
    lines: list[TextLine] = []
    current: list[Char] = []
    for c in [*chars, None]:
        if c is None:
            if "".join(x.text for x in current).strip():
                lines.append(TextLine(current))
            current = []
        elif c.text == SOFT_HYPHEN:
            # pdfium joins a word hyphenated across lines into one line: break it where the page does
            current.append(Char("-", c.left, c.bottom, c.right, c.top))
            if "".join(x.text for x in current).strip():
                lines.append(TextLine(current))
            current = []
        elif c.text not in "\r\n":
            current.append(c)
    return lines


def is_vertical(chars: list[Char | None]) -> bool:
    """Whether most steps between consecutive inked characters go down the page rather than across."""
    inked = [c for c in chars if c is not None and not c.text.isspace() and c.right > c.left]
    down = across = 0
    for a, b in zip(inked, inked[1:], strict=False):
        dx, dy = (b.left + b.right - a.left - a.right) / 2, (a.top + a.bottom - b.top - b.bottom) / 2
        height = max(a.top - a.bottom, b.top - b.bottom, 1.0)
        if 0 < dy < 2 * height and abs(dx) < height / 2:
            down += 1
        elif abs(dy) < height / 2 and 0 < dx < 3 * height:
            across += 1
    return down > across


def vertical_lines(chars: list[Char | None]) -> list[TextLine]:
    """Columns of a vertical page in reading order: tiers top to bottom, columns right to left."""
    columns: list[list[Char]] = []
    for c in chars:
        if c is None or c.text in "\r\n" or c.right <= c.left:
            continue
        last = columns[-1][-1] if columns else None
        width = max(c.right - c.left, 1.0)
        if last is not None and (_below(last, c, width) or _right_of(last, c)):
            columns[-1].append(c)
        else:
            columns.append([c])
    lines = [TextLine(col) for col in columns if "".join(x.text for x in col).strip()]
    tiers: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda ln: -ln.box()[3]):
        _, bottom, _, top = line.box()
        for tier in tiers:
            t_bottom, t_top = min(t.box()[1] for t in tier), max(t.box()[3] for t in tier)
            overlap = min(top, t_top) - max(bottom, t_bottom)
            if overlap > 0.5 * min(top - bottom, t_top - t_bottom):
                tier.append(line)
                break
        else:
            tiers.append([line])
    return [line for tier in tiers for line in sorted(tier, key=lambda ln: -ln.box()[2])]


def _below(last: Char, c: Char, width: float) -> bool:
    # the next character of a column: centred under the last one, within two character heights
    return abs((c.left + c.right) - (last.left + last.right)) / 2 < width / 2 and (
        last.bottom - 2 * width < c.top <= last.top
    )


def _right_of(last: Char, c: Char) -> bool:
    # a horizontal run on a vertical page (a Latin heading): same line, just to the right
    height = max(last.top - last.bottom, c.top - c.bottom, 1.0)
    middle = abs((c.top + c.bottom) - (last.top + last.bottom)) / 2
    return middle < height / 2 and -0.1 * height <= c.left - last.right < height


def garbled_fraction(text: str) -> float:
    """Share of characters that no reader can read: private-use, unassigned, control, U+FFFD."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    bad = sum(1 for c in chars if c == "\ufffd" or unicodedata.category(c) in ("Co", "Cn", "Cc", "Cs"))
    return bad / len(chars)

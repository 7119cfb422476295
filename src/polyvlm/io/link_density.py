"""Link-heavy paragraphs out of the main text: "Read more: <a>…</a>", related-story lists, site link lists, "もっと見る".

A paragraph whose words are mostly link text points elsewhere; it is navigation, not the page's own text
(the link-density rule of boilerpipe and trafilatura). resiliparse's plain text no longer knows which
words were links, so every <a> is wrapped in two private-use marks in the HTML first (a regular
expression, not a DOM pass: this runs on every page); after extraction each line's share of marked
characters decides, and the marks go. Two or more link lines in a row are a list and go; a lone link
line goes only after a lead-in label ("Read more: <a>"), since a table-layout page puts one link under
each of its own labels. A short heading line directly above a dropped line (関連記事, "Related") headed
that list and goes with it.
"""

from __future__ import annotations

import re

LINK_OPEN, LINK_CLOSE = "\ue002", "\ue003"  # private-use: never in a page's text we keep
MAX_LINK_SHARE = 0.8
"""a line with more than this share of its characters inside links is a link line (trafilatura's threshold)"""
HEADING_CHARS = 30
"""a line this short without sentence-final punctuation, right above a dropped line, is that list's heading"""

_A_OPEN = re.compile(r"(<a\b[^>]*>)", re.I)
_A_CLOSE = re.compile(r"(</a\s*>)", re.I)
_MARKS = re.compile(f"([{LINK_OPEN}{LINK_CLOSE}])")
_IMAGE_MARK = re.compile("\ue000\\d+\ue001")  # io/image_positions' markers are not words
# a short label before the link: "Read more:", "Mehr zum Thema:", "関連記事：", "参考:"
_LEAD_IN = re.compile(f"^[^{LINK_OPEN}]{{1,24}}[:：]\\s*{LINK_OPEN}")
_SENTENCE_END = re.compile(r"[。．.!?！？:：]\W*$")


def mark_links(html: str) -> str:
    """Wrap every link's content in LINK_OPEN … LINK_CLOSE."""
    return _A_CLOSE.sub(LINK_CLOSE + r"\1", _A_OPEN.sub(r"\1" + LINK_OPEN, html))


def _shares(lines: list[str]) -> list[tuple[int, int]]:
    # (characters, characters inside a link) per line; a link may span lines (a card wrapped in <a>)
    depth = 0
    out = []
    for line in lines:
        total = linked = 0
        for piece in _MARKS.split(_IMAGE_MARK.sub("", line)):
            if piece == LINK_OPEN:
                depth += 1
            elif piece == LINK_CLOSE:
                depth = max(0, depth - 1)
            elif piece:
                n = len("".join(piece.split()))
                total += n
                linked += n if depth else 0
        out.append((total, linked))
    return out


def _plain(line: str) -> str:
    return line.replace(LINK_OPEN, "").replace(LINK_CLOSE, "").strip()


def drop_link_lines(lines: list[str]) -> list[str]:
    """The lines without link lists, "Read more: <a>" lines and their headings; link marks removed, empty lines dropped."""
    shares = _shares(lines)
    heavy = [total > 0 and linked > MAX_LINK_SHARE * total for total, linked in shares]
    worded = [i for i, (total, _) in enumerate(shares) if total]  # lines with characters, in order
    drop = [False] * len(lines)
    for k, i in enumerate(worded):
        # a list is two or more link lines in a row; one link line alone (a label's value, a
        # breadcrumb) is dropped only when a "Read more:"-style lead-in introduces it
        in_run = heavy[i] and any(0 <= j < len(worded) and heavy[worded[j]] for j in (k - 1, k + 1))
        drop[i] = in_run or _introduced_link(lines[i])
    # the heading right above a dropped list goes with it; only one: above it may stand the title
    heads = [
        i
        for i, below in zip(worded, worded[1:], strict=False)
        if not drop[i] and drop[below] and _is_heading(_plain(lines[i]))
    ]
    for i in heads:
        drop[i] = True
    return [text for i, line in enumerate(lines) if not drop[i] and (text := _plain(line))]


def _introduced_link(line: str) -> bool:
    # "Read more: <a>…</a>": the label is not judged, what follows it is (a link line or not)
    m = _LEAD_IN.match(line)
    if m is None:
        return False
    [(total, linked)] = _shares([line[m.end() - 1 :]])
    return total > 0 and linked > MAX_LINK_SHARE * total


def _is_heading(text: str) -> bool:
    words = "".join(_IMAGE_MARK.sub("", text).split())
    return 0 < len(words) <= HEADING_CHARS and not _SENTENCE_END.search(text)


def strip_link_marks(lines: list[str]) -> list[str]:
    """The lines with link marks removed, empty ones dropped (all-text mode keeps link lines)."""
    return [text for text in (_plain(line) for line in lines) if text]

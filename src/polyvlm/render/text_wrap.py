"""Lines of text that fit a width in a font, with Japanese line-breaking rules (禁則処理, the simple kind).

A character that may not start a line (closing brackets, 。、, small kana, ー) hangs at the end of the
line before it (one at most: past that, characters are pushed down to the next line with it); one that
may not end a line (opening brackets) moves to the next. Latin words are not
split when a space offers a break.
"""

from __future__ import annotations

from PIL import ImageFont

NO_START = set("、。，．,.)）」』】〕〉》’”ゝゞ々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶー・：；？！!?")
NO_END = set("(（「『【〔〈《‘“")


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """The text broken into lines no wider than `width` (a line may overhang by one no-start character)."""
    lines: list[str] = []
    line = ""
    for ch in text:
        if ch == "\n":
            lines.append(line)
            line = ""
            continue
        fits = font.getlength(line + ch) <= width
        # a no-start character may hang past the edge, but only one: a line already over takes no more
        if not line or fits or (ch in NO_START and font.getlength(line) <= width):
            line += ch
            continue
        head, tail = line, ch
        space = head.rfind(" ")
        if ch.isascii() and ch.isalnum() and space > 0 and head[space + 1 :].isascii():
            head, tail = head[:space], head[space + 1 :] + ch  # the Latin word goes down whole
        # push characters down (追い出し) until the new line starts legally and the old one ends legally
        while len(head) > 1 and (tail[0] in NO_START or head[-1] in NO_END):
            head, tail = head[:-1], head[-1] + tail
        lines.append(head.rstrip())
        line = tail.lstrip()
    if line:
        lines.append(line)
    return [ln for ln in lines if ln.strip()]

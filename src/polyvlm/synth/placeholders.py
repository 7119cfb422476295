"""Protect what a translation must not touch (image markers, code, URLs, numbers, option letters) behind ⟦n⟧.

`protect` swaps each protected span for a numbered placeholder and peels leading/trailing image markers
and whitespace off entirely (a model tends to move or drop them); `restore` puts everything back and
raises StructureLost when the model lost, duplicated or invented a placeholder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MEDIA = re.compile(r"<(?:image|video|audio)(?:_?\d+)?>")
KINDS = ("code_block", "inline_code", "placeholder", "url", "email", "media", "box", "option", "number")

_LATIN_OR_DIGIT = r"[0-9A-Za-z\u00c0-\u024f\uff10-\uff19]"
# (kind, pattern); the protected span is the group "p" when the pattern has one, else the whole match.
# Order matters only for matches starting at the same position: the earlier kind wins.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("code_block", re.compile(r"(?s)(```|~~~).*?(?:\1|\Z)")),
    ("inline_code", re.compile(r"`[^`\n]+`")),
    # a literal ⟦3⟧ in the source must survive as itself, not be taken for one of ours
    ("placeholder", re.compile(r"⟦\s*\d+\s*⟧")),
    # ASCII URL characters only, so Japanese text right after a URL is not swallowed
    ("url", re.compile(r"(?:(?:https?|ftp)://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")),
    ("email", re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")),
    ("media", MEDIA),
    # bounding boxes and coordinate lists travel as one unit: [0.12, 0.3, 0.5, 0.91]
    ("box", re.compile(r"\[\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)+\s*\]")),
    # option markers at a line start: "A.", "B)", "(C)", "[D]", "（E）", "F：" ...
    (
        "option",
        re.compile(r"(?m)^[ \t]*(?P<p>[(（\[][A-Za-z][)）\]]|[A-Z][.．:：)）]|[a-z][)）])(?=[ \t]|$)"),
    ),
    # ... an option in running text, "(B)" (lower case only where no letter precedes: not "cat(s)")
    ("option", re.compile(r"[(（][A-Z][)）]|(?<![^\W\d_])[(（][a-z][)）]")),
    # ... and an answer that is nothing but an option letter: "B", "B."
    ("option", re.compile(r"\A\s*(?P<p>[A-Z][.)]?)\s*\Z")),
    # a number standing alone, with decimals, thousands, times; not inside a Latin word (H2O, 4K, 500x99),
    # which the atomic group enforces (no backtracking to "50" of "500x"); next to kana/kanji it is alone
    (
        "number",
        re.compile(
            rf"(?<!{_LATIN_OR_DIGIT})(?<!{_LATIN_OR_DIGIT}[.,:/])(?>\d+(?:[.,:/]\d+)*)(?!{_LATIN_OR_DIGIT})"
        ),
    ),
]
_EDGE_MEDIA = r"(?:\s|" + MEDIA.pattern + r")*"
_LEADING = re.compile(r"\A" + _EDGE_MEDIA)
_TRAILING = re.compile(_EDGE_MEDIA + r"\Z")
_URL_TRAILING = ".,;:!?'\"*"
_PLACEHOLDER = re.compile(r"⟦\s*(\d+)\s*⟧")


def strip_media(text: str) -> str:
    """The text without its <image>/<video>/<audio> markers."""
    return MEDIA.sub("", text)


def prose(text: str) -> str:
    """A model's output without its ⟦n⟧ placeholders, whitespace collapsed: what the checks compare."""
    return " ".join(_PLACEHOLDER.sub(" ", text).split())


class StructureLost(ValueError):
    """A translation lost, duplicated or invented a placeholder: its structure cannot be restored."""


@dataclass(frozen=True, slots=True)
class Protected:
    """A text ready for a model: `text` with ⟦n⟧ for spans[n], between an untouched prefix and suffix."""

    text: str
    spans: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    @property
    def prose(self) -> str:
        """The translatable words only: placeholders removed, whitespace collapsed (for checks)."""
        return prose(self.text)

    @property
    def has_words(self) -> bool:
        """Whether anything is left to translate (a message of only markers, numbers or code is not)."""
        return any(c.isalpha() for c in _PLACEHOLDER.sub("", self.text))


def _trim_url(url: str) -> str:
    """Drop sentence punctuation after a URL, and a closing bracket that the URL did not open."""
    while url:
        last = url[-1]
        if last in _URL_TRAILING or (last == ")" and url.count("(") < url.count(")")):
            url = url[:-1]
        elif last == "]" and url.count("[") < url.count("]"):
            url = url[:-1]
        else:
            break
    return url


def _spans(text: str, kinds: frozenset[str]) -> list[tuple[int, int]]:
    """Non-overlapping protected (start, end) spans, leftmost first."""
    found: list[tuple[int, int, int]] = []  # (start, priority, end)
    for priority, (kind, pattern) in enumerate(_PATTERNS):
        if kind not in kinds:
            continue
        for m in pattern.finditer(text):
            start, end = m.span("p") if "p" in pattern.groupindex else m.span()
            if kind == "url":
                end = start + len(_trim_url(text[start:end]))
            if end > start:
                found.append((start, priority, end))
    found.sort()
    chosen: list[tuple[int, int]] = []
    for start, _, end in found:
        if not chosen or start >= chosen[-1][1]:
            chosen.append((start, end))
    return chosen


def protect(text: str, kinds: frozenset[str] | set[str] | tuple[str, ...] = KINDS) -> Protected:
    """Replace the protected spans of `text` by ⟦0⟧, ⟦1⟧, ... and peel off edge image markers."""
    kinds = frozenset(kinds)
    unknown = kinds - set(KINDS)
    if unknown:
        raise ValueError(f"unknown protected kinds {sorted(unknown)}; known: {list(KINDS)}")
    prefix = _LEADING.match(text).group()  # type: ignore[union-attr]  # always matches (may be empty)
    core = text[len(prefix) :]
    suffix = _TRAILING.search(core).group() if core else ""  # type: ignore[union-attr]
    core = core[: len(core) - len(suffix)]
    parts: list[str] = []
    spans: list[str] = []
    last = 0
    for start, end in _spans(core, kinds):
        parts.append(core[last:start])
        parts.append(f"⟦{len(spans)}⟧")
        spans.append(core[start:end])
        last = end
    parts.append(core[last:])
    return Protected("".join(parts), tuple(spans), prefix, suffix)


def restore(protected: Protected, translated: str) -> str:
    """The translation with every placeholder back to its span; StructureLost if any is missing or extra."""
    seen = [0] * len(protected.spans)
    invented: list[str] = []

    def _back(m: re.Match[str]) -> str:
        i = int(m.group(1))
        if i >= len(seen):
            invented.append(m.group())
            return m.group()
        seen[i] += 1
        return protected.spans[i]

    body = _PLACEHOLDER.sub(_back, translated.strip())
    missing = [i for i, n in enumerate(seen) if n == 0]
    doubled = [i for i, n in enumerate(seen) if n > 1]
    if missing or doubled or invented:
        detail = "; ".join(
            f"{what} {items}"
            for what, items in (("missing", missing), ("duplicated", doubled), ("invented", invented))
            if items
        )
        raise StructureLost(detail)
    return protected.prefix + body + protected.suffix

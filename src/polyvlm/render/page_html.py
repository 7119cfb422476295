"""The HTML of a document page in one of a few layouts: article, two columns, table, vertical writing (縦書き).

Every element whose text is ground truth carries `data-block` (its number), `data-role` (heading,
paragraph, item, cell) and, for table cells, `data-row`/`data-col` (1-based, the header row is 0), so
that ground_truth.js can name what each measured line belongs to. Text is escaped; the page loads
nothing (fonts are the system's Noto CJK).
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass, field

from polyvlm.render.furigana import ruby_html

LAYOUTS = ("article", "two_column", "table", "vertical")
_SENTENCE = re.compile(r"[^。！？!?．]+[。！？!?．]?|[^.]+\.?")


@dataclass(slots=True)
class PageSpec:
    """What to render: the layout, the page and type, and the text (a title and paragraphs)."""

    layout: str
    title: str
    paragraphs: list[str]
    width: int = 800
    height: int = 1000
    font: str = "Noto Sans CJK JP"
    font_size: int = 20
    language: str = "ja"
    ruby_share: float = 0.0
    table_headers: list[str] = field(default_factory=lambda: ["No.", "Text"])
    seed: int = 0


def sentences(text: str, max_chars: int) -> list[str]:
    """The text's sentences, each cut to max_chars (table cells and list items are short)."""
    out = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    return [s if len(s) <= max_chars else s[: max_chars - 1] + "…" for s in out]


class _Blocks:
    """Numbers the blocks as they are written."""

    def __init__(self, spec: PageSpec) -> None:
        self.n = 0
        self.spec = spec
        self.rng = random.Random(spec.seed)

    def tag(self, name: str, role: str, text: str, extra: str = "", ruby: bool = False) -> str:
        self.n += 1
        body = ruby_html(text, self.rng, self.spec.ruby_share)[0] if ruby else html.escape(text)
        return f'<{name} data-block="{self.n}" data-role="{role}"{extra}>{body}</{name}>'


def page_html(spec: PageSpec) -> str:
    """The page as a self-contained HTML document."""
    blocks = _Blocks(spec)
    ruby = spec.ruby_share > 0
    head = blocks.tag("h1", "heading", spec.title)
    if spec.layout == "table":
        rows = [s for p in spec.paragraphs for s in sentences(p, 24)][:12]
        header = "".join(
            blocks.tag("th", "cell", h, f' data-row="0" data-col="{c}"')
            for c, h in enumerate(spec.table_headers, 1)
        )
        body = "".join(
            "<tr>"
            + blocks.tag("td", "cell", str(r), f' data-row="{r}" data-col="1"')
            + blocks.tag("td", "cell", text, f' data-row="{r}" data-col="2"')
            + "</tr>"
            for r, text in enumerate(rows, 1)
        )
        main = f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
    elif spec.layout == "article":
        first, *rest = spec.paragraphs or [""]
        items = [s for p in rest[:1] for s in sentences(p, 40)][:5]
        main = blocks.tag("p", "paragraph", first, ruby=ruby)
        main += "<ul>" + "".join(blocks.tag("li", "item", s) for s in items) + "</ul>"
        main += "".join(blocks.tag("p", "paragraph", p, ruby=ruby) for p in rest[1:])
    else:
        main = "".join(blocks.tag("p", "paragraph", p, ruby=ruby) for p in spec.paragraphs)
        if spec.layout == "two_column":
            main = f'<div class="columns">{main}</div>'
    return _DOCUMENT.format(
        lang=html.escape(spec.language),
        css=_css(spec),
        body=head + main,
    )


def _css(spec: PageSpec) -> str:
    vertical = spec.layout == "vertical"
    return (
        f"html,body{{margin:0;width:{spec.width}px;height:{spec.height}px;overflow:hidden;background:#fff}}"
        f"body{{box-sizing:border-box;padding:48px;display:flex;flex-direction:column;font-family:'{spec.font}';font-size:{spec.font_size}px;"
        "line-height:1.7;color:#111;line-break:strict;word-break:normal;overflow-wrap:anywhere;"
        f"{'writing-mode:vertical-rl;' if vertical else ''}}}"
        "h1{font-size:1.5em;margin:0 0 0.8em 0;line-height:1.4}"
        "p{margin:0 0 0.8em 0;text-align:justify}"
        ".columns{column-count:2;column-gap:40px;column-fill:auto;flex:1 1 0;min-height:0}"
        "table{border-collapse:collapse;width:100%}"
        "th,td{border:1px solid #444;padding:4px 8px;text-align:left;vertical-align:top}"
        "th{background:#eee}"
        "ul{margin:0 0 0.8em 0;padding-left:1.5em}"
        "rt{font-size:0.5em}"
    )


_DOCUMENT = (
    '<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><style>{css}</style></head>'
    "<body>{body}</body></html>"
)

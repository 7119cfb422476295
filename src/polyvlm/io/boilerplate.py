"""DOM repairs before main-content extraction: boilerplate blocks out, article containers protected.

resiliparse's main-content rules keep related-story boxes, copyright lines and subscription
teasers that trafilatura drops, drop any element classed like a share widget even when it holds the
whole article, and drop text nodes made of a single CJK character (so 「親が」 loses 親). These
functions work around all three; docs/BENCHMARKS.md measures the effect on gold pages.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

# class/id words of blocks that are never main content (matched inside the class or id value)
BOILERPLATE = re.compile(
    r"related|copyright|newsletter|subscri|promo|teaser|recommend|sidebar|linklist|breadcrumb|cookie|"
    r"paywall|advert|sponsor|outbrain|taboola|comment|widget|banner|byline|-stories|most-popular|more-on|footer",
    re.I,
)
# the class/id prefixes resiliparse treats as share widgets
SHARE_LIKE = re.compile(r"(^|\s)(share|social|twitter|facebook)[-_]", re.I)
ARTICLE_CHARS = 1000  # a block with this much text is content, whatever its class says
_LONE_CHAR = re.compile(r">(\s*)([^\x00-\x7f<>\s])(\s*)<")
ZWSP = "\u200b"


def _label(attrs: dict) -> str:
    return f"{attrs.get('class') or ''} {attrs.get('id') or ''}"


def prune(tree: LexborHTMLParser) -> bool:
    """Remove boilerplate blocks and unmask long share-classed blocks in place; True when changed."""
    changed = False
    for node in tree.css("[class], [id]"):
        if node.tag in ("html", "body", "main", "article"):
            continue
        label = _label(node.attributes)
        if BOILERPLATE.search(label):
            if len(node.text(deep=True, separator=" ", strip=True)) < ARTICLE_CHARS:
                node.decompose()
                changed = True
        elif SHARE_LIKE.search(label) and len(node.text(deep=True, strip=True)) >= ARTICLE_CHARS:
            del node.attrs["class"]
            changed = True
    return changed


def pad_lone_characters(html: str) -> str:
    """Make text nodes of one non-ASCII character two characters long (with ZWSP; removed later)."""
    return _LONE_CHAR.sub(lambda m: f">{m.group(1)}{m.group(2)}{ZWSP}{m.group(3)}<", html)

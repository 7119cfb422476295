"""DOM repairs before main-content extraction: boilerplate blocks out, article containers protected.

resiliparse's main-content rules keep related-story boxes, copyright lines and subscription
teasers that trafilatura drops, drop any element classed like a share widget even when it holds the
whole article, and drop text nodes made of a single CJK character (so 「親が」 loses 親). These
functions work around all three; docs/BENCHMARKS.md measures the effect on gold pages.
"""

from __future__ import annotations

import functools
import re

from selectolax.lexbor import LexborHTMLParser

# class/id words of blocks that are never main content (matched inside the class or id value)
BOILERPLATE = re.compile(
    r"related|copyright|newsletter|subscri|promo|teaser|recommend|sidebar|linklist|breadcrumb|cookie|"
    r"paywall|advert|sponsor|outbrain|taboola|comment|widget|banner|byline|-stories|most-popular|more-on|footer|"
    # rankings, pop-up dialogs, back-to-top links, related/pick-up lists, menus, navigation, tag clouds
    r"ranking|modal|popup|pagetop|page-top|relation|pickup|menu|(?<![a-z])nav|(?<![a-z])tags?(?![a-z])",
    re.I,
)
# a call-to-action control: a button, or an element classed like one (btn, form-button)
BUTTON = re.compile(r"(^|[\s_-])(button|btn)([\s_-]|$)", re.I)
BUTTON_CHARS = 50  # a control's own label is short; a longer "button" block is a container
PROMO_CHARS = 500  # a block this short around a link-button (and without the page's <h1>) is a promo box
# the class/id prefixes resiliparse treats as share widgets
SHARE_LIKE = re.compile(r"(^|\s)(share|social|twitter|facebook)[-_]", re.I)
ARTICLE_CHARS = 1000  # a block with this much text is content, whatever its class says
_LONE_CHAR = re.compile(r">(\s*)([^\x00-\x7f<>\s])(\s*)<")
ZWSP = "\u200b"


def _label(attrs: dict) -> str:
    return f"{attrs.get('class') or ''} {attrs.get('id') or ''}"


@functools.lru_cache(maxsize=1 << 16)
def _label_kind(label: str) -> int:
    # 1 boilerplate, 2 share-like, 0 neither; cached: pages repeat a few class names on thousands of nodes
    return 1 if BOILERPLATE.search(label) else 2 if SHARE_LIKE.search(label) else 0


def prune(tree: LexborHTMLParser) -> bool:
    """Remove boilerplate blocks and unmask long share-classed blocks in place; True when changed."""
    changed = False
    for node in tree.css("[class], [id]"):
        if node.tag in ("html", "body", "main", "article"):
            continue
        kind = _label_kind(_label(node.attributes))
        if kind == 1:
            if len(node.text(deep=True, separator=" ", strip=True)) < ARTICLE_CHARS:
                node.decompose()
                changed = True
        elif kind == 2 and len(node.text(deep=True, strip=True)) >= ARTICLE_CHARS:
            del node.attrs["class"]
            changed = True
    return _prune_controls(tree) or _prune_site_headers(tree) or changed


def _prune_controls(tree: LexborHTMLParser) -> bool:
    # a subscription box is a few lines and a button ("Jetzt Abo sichern", "続きを読む"): both go
    changed = False
    for node in tree.css('button, [class*="btn"], [class*="button"], [class*="Btn"], [class*="Button"]'):
        if node.tag in ("html", "body", "main", "article"):
            continue
        if node.tag != "button" and not BUTTON.search(node.attributes.get("class") or ""):
            continue
        if len(node.text(deep=True, strip=True)) > BUTTON_CHARS:
            continue
        box = node.parent
        # only a link leads away (subscribe, read elsewhere); a <button> or a toggle <div> works on this
        # page ("read more" unfolding a summary), so the text around it stays
        if (
            node.tag == "a"
            and box is not None
            and box.tag not in ("html", "body", "main", "article")
            and len(box.text(deep=True, separator=" ", strip=True)) < PROMO_CHARS
            and box.css_first("h1") is None
        ):
            box.decompose()
        else:
            node.decompose()
        changed = True
    return changed


def _prune_site_headers(tree: LexborHTMLParser) -> bool:
    # the site's masthead (logo, search words, menus); an article's own <header> holds its title and lead
    changed = False
    for node in tree.css("header"):
        parent, inside = node.parent, False
        while parent is not None and not inside:
            inside = parent.tag in ("article", "main")
            parent = parent.parent
        if not inside and node.css_first("h1") is None:
            node.decompose()
            changed = True
    return changed


def pad_lone_characters(html: str) -> str:
    """Make text nodes of one non-ASCII character two characters long (with ZWSP; removed later)."""
    return _LONE_CHAR.sub(lambda m: f">{m.group(1)}{m.group(2)}{ZWSP}{m.group(3)}<", html)

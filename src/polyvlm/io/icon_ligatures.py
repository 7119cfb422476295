"""Icon-font ligatures out of the text: `<i class="material-icons">access_time</i>` draws a clock, and its
text is the icon's name, never the page's words."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

# Google's Material Icons and Material Symbols (every style); their text is a ligature name
ICON_FONT_CLASS = re.compile(r"(^|\s)material-(icons|symbols)(-[a-z-]+)?(\s|$)")


def drop_icon_ligatures(tree: LexborHTMLParser) -> bool:
    """Remove elements whose class names a ligature icon font, in place; True when any was removed."""
    changed = False
    for node in tree.css('[class*="material-icons"], [class*="material-symbols"]'):
        if ICON_FONT_CLASS.search(node.attributes.get("class") or ""):
            node.decompose()
            changed = True
    return changed

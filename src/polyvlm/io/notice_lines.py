"""Copyright and reprint notices out of the main text: 無断転載禁止, "© 2024 Example", "All rights reserved".

Sites print them in the article's own header or footer, in blocks named like anything (yomiuri.co.jp's
`div.c-attention`), so the class rules in io/boilerplate.py miss them; the words themselves do not
vary: a short line made of them is a notice, never the page's text. A long line that mentions
copyright (an article about copyright law) is left alone.
"""

from __future__ import annotations

import re

NOTICE_CHARS = 60
"""only lines up to this many characters can be notices"""

NOTICE = re.compile(
    r"無断転載|転載禁止|無断複製|複製を禁|著作権|版权所有|저작권|©|\(c\)\s*\d{4}|copyright|all rights reserved|"
    r"alle rechte vorbehalten|tous droits réservés|todos los derechos reservados|tutti i diritti riservati",
    re.I,
)


def drop_notice_lines(lines: list[str]) -> list[str]:
    """The lines without short copyright/reprint notices."""
    return [line for line in lines if len(line) > NOTICE_CHARS or not NOTICE.search(line)]

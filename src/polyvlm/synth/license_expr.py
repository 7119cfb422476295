"""SPDX licence expressions (`MIT`, `Apache-2.0 AND CC-BY-4.0`, `(MIT OR GPL-2.0) AND BSD-3-Clause`).

A record made by two models carries both licences joined by AND; a dual-licensed source carries OR.
`disallowed` answers which licence ids keep an expression from being satisfied by an allow-list.
"""

from __future__ import annotations

import re

UNKNOWN = "NOASSERTION"  # SPDX's word for "no licence information"
_TOKEN = re.compile(r"\(|\)|[^\s()]+")


class LicenseExpressionError(ValueError):
    """A licence string that is not a well-formed SPDX expression."""


def combine(licenses: list[str]) -> str:
    """The AND of several licences (each kept once, in order; an empty one as NOASSERTION)."""
    ids = list(dict.fromkeys(lic.strip() or UNKNOWN for lic in licenses))
    return " AND ".join(f"({lic})" if " OR " in lic.upper() else lic for lic in ids)


def disallowed(expression: str, allowed: set[str]) -> list[str]:
    """Licence ids that stop `expression` from holding under `allowed` (case-insensitive); [] when it holds."""
    allowed_ids = {a.casefold() for a in allowed}
    tokens = _TOKEN.findall(expression)
    if not tokens:
        return [UNKNOWN]
    pos = 0

    def peek() -> str:
        return tokens[pos].upper() if pos < len(tokens) else ""

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise LicenseExpressionError(f"unexpected end of licence expression {expression!r}")
        pos += 1
        return tokens[pos - 1]

    def primary() -> list[str]:
        tok = take()
        if tok == "(":
            bad = disjunction()
            if take() != ")":
                raise LicenseExpressionError(f"unbalanced parentheses in {expression!r}")
            return bad
        if tok.upper() in ("AND", "OR", "WITH", ")"):
            raise LicenseExpressionError(f"misplaced {tok!r} in licence expression {expression!r}")
        if peek() == "WITH":  # an exception only adds permissions: the base licence decides
            take(), take()
        lic = tok.casefold()
        return [] if lic in allowed_ids and lic not in ("noassertion", "none") else [tok]

    def conjunction() -> list[str]:
        bad = primary()
        while peek() == "AND":
            take()
            bad = bad + primary()
        return bad

    def disjunction() -> list[str]:
        options = [conjunction()]
        while peek() == "OR":
            take()
            options.append(conjunction())
        return [] if any(not o for o in options) else options[0]

    bad = disjunction()
    if pos != len(tokens):
        raise LicenseExpressionError(f"unexpected {tokens[pos]!r} in licence expression {expression!r}")
    return bad

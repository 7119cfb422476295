"""Kanji numerals as numbers: 七 → 7, 二十三 → 23, 一万 → 10000, 二〇二四 → 2024, 1.5万 → 15000.

Grounding compares the numbers of an answer with those of its source; without this, 七次元 passes against a
page that says 2 次元. Written out rather than a dependency: the parse is twenty lines, and finding the
numerals inside running text (where 一 also starts 一緒 and 統一) is the part a converter does not do.
"""

from __future__ import annotations

import re

DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {
    "零": 0
}  # not 参 (daiji 3): it starts 参加, 参考
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
BIG_UNITS = {"万": 10**4, "億": 10**8, "兆": 10**12}
_CHARS = "".join([*DIGITS, *SMALL_UNITS, *BIG_UNITS])
SPAN = re.compile(f"(\\d+(?:\\.\\d+)?)?([{_CHARS}]+)")


def kanji_to_int(numeral: str) -> int:
    """The value of a kanji numeral, positional (二〇二四) or with units (二千二十四, 三億五千万)."""
    total = section = 0
    digit: int | None = None
    for ch in numeral:
        if ch in DIGITS:
            digit = DIGITS[ch] if digit is None else digit * 10 + DIGITS[ch]  # 二〇二四: place value
        elif ch in SMALL_UNITS:
            section += (1 if digit is None else digit) * SMALL_UNITS[ch]
            digit = None
        else:
            total += (section + (0 if digit is None else digit) or 1) * BIG_UNITS[ch]
            section, digit = 0, None
    return total + section + (0 if digit is None else digit)


def kanji_numbers(text: str, lone_one: bool = True) -> list[str]:
    """The numbers written in kanji in a text (with an Arabic head: 1.5万), as decimal strings.

    `lone_one=False` leaves out a single 一, which is more often part of a word (一緒, 一方, 統一) than a count.
    """
    out = []
    for m in SPAN.finditer(text):
        head, kanji = m.group(1), m.group(2)
        if head is not None and kanji[0] in BIG_UNITS:
            rest = kanji_to_int(kanji[1:]) if len(kanji) > 1 else 0
            value = float(head) * BIG_UNITS[kanji[0]] + rest
            out.append(str(int(value)) if value == int(value) else str(value))
            continue
        if kanji in BIG_UNITS or kanji in SMALL_UNITS and kanji != "十" or (kanji == "一" and not lone_one):
            continue  # a bare 万 or 百 is a word (万全, 百貨店), not a count
        out.append(str(kanji_to_int(kanji)))
    return out

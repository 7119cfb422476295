"""Kanji numerals as numbers, and grounding that checks them."""

import pytest

from polyvlm.synth.grounding import ungrounded
from polyvlm.text.kanji_numerals import kanji_numbers, kanji_to_int


@pytest.mark.parametrize(
    "numeral, value",
    [("七", 7), ("十", 10), ("二十三", 23), ("百二十", 120), ("一万", 10000), ("二〇二四", 2024),
     ("二千二十四", 2024), ("三億五千万", 350_000_000), ("一万二千三百四十五", 12345)],
)  # fmt: skip
def test_values(numeral, value):
    assert kanji_to_int(numeral) == value


def test_numbers_in_running_text():
    assert kanji_numbers("参加者は1.5万人、七次元の話") == ["15000", "7"]
    assert kanji_numbers("一緒に統一する", lone_one=False) == []
    assert kanji_numbers("万全の百貨店") == []  # bare units are words


def test_grounding_rejects_a_kanji_number_the_page_does_not_have():
    page = "この論文は 2 次元の格子を扱う。参加者は二十三人だった。"
    assert ungrounded("七次元の格子を扱う。", page) == "number not in source: 7"
    assert ungrounded("二次元の格子を扱う。", page) == ""
    assert ungrounded("参加者は23人でした。", page) == ""  # Arabic answer, kanji source
    assert ungrounded("参加者は二十四人でした。", page) == "number not in source: 24"
    assert ungrounded("一緒に格子を扱う。", page) == ""  # a lone 一 is a word, not a count

"""sentence_separator: no space where CJK text meets, one between words of space-separated scripts."""

import pytest

from polyvlm.text.sentence_join import sentence_separator


@pytest.mark.parametrize(
    ("before", "after", "sep"),
    [
        ("一文目。", "二文目。", ""),  # Japanese runs on
        ("東京タワー", "です", ""),
        ("ＡＢＣ", "def", ""),  # full-width forms count as CJK
        ("Il pleut.", "Je reste.", " "),
        ("Es regnet.", "Ich bleibe.", " "),
        ("雨です。", "OK", ""),
        ("ends with space ", "x", ""),
        ("x", " starts with space", ""),
        ("", "first", ""),
        ("안녕하세요.", "반갑습니다.", " "),  # Korean separates words with spaces
    ],
)
def test_sentence_separator(before, after, sep):
    assert sentence_separator(before, after) == sep

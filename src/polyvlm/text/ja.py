"""Japanese alt-text rules (LLM-jp VILA): script, placeholder alt texts, file-name-like alt texts."""

from __future__ import annotations

import re

from polyvlm.core.records import Record, record_text
from polyvlm.core.step import FilterStep, Params, register

HIRAGANA = "\u3041-\u309f"
KATAKANA = "\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"  # incl. phonetic extensions and half-width kana
KANJI = "\u4e00-\u9fff"  # CJK Unified Ideographs: the block that holds the common (jōyō) kanji
JAPANESE = re.compile(f"[{HIRAGANA}{KATAKANA}{KANJI}]")
KANA = re.compile(f"[{HIRAGANA}{KATAKANA}]")

PLACEHOLDERS = [
    "画像に alt属性が指定されていません。",  # Ameba blog's text for images without alt
    "この画像には alt属性が指定されておらず、",  # Hatena blog's
]
FILE_WORDS = [
    "全画面キャプチャ",
    "スクリーンショット",
    "キャプチャ",
    "写真",
    "画像",
    "ファイル",
    "コメント",
    "コピー",
]


def has_japanese(text: str) -> bool:
    """True when the text holds hiragana, katakana or kanji."""
    return JAPANESE.search(text) is not None


class JaScriptParams(Params):
    """Parameters of ja_script."""

    require_kana: bool = False
    """also require hiragana or katakana (kanji alone is also Chinese)"""


@register
class JaScript(FilterStep):
    """Keep texts that contain hiragana, katakana or kanji (reason: no_japanese_script)."""

    name = "ja_script"
    Params = JaScriptParams

    def reject(self, record: Record) -> str | None:
        text = record_text(record)
        if not has_japanese(text):
            return "no_japanese_script"
        if self.params.require_kana and KANA.search(text) is None:
            return "no_kana"
        return None


class JaPlaceholderParams(Params):
    """Parameters of ja_placeholder_alt."""

    prefixes: list[str] = PLACEHOLDERS
    """texts starting with any of these are a blog platform's placeholder, not a description"""


@register
class JaPlaceholderAlt(FilterStep):
    """Drop placeholder alt texts that blog platforms write for images without one (reason: placeholder)."""

    name = "ja_placeholder_alt"
    Params = JaPlaceholderParams

    def reject(self, record: Record) -> str | None:
        text = record_text(record).strip()
        return "placeholder" if any(text.startswith(p) for p in self.params.prefixes) else None


class JaFileNameParams(Params):
    """Parameters of ja_filename_alt."""

    words: list[str] = FILE_WORDS
    """a text that starts with one of these and has no Japanese after it is a file name"""


@register
class JaFileNameAlt(FilterStep):
    """Drop file-name-like alt texts: 写真, 画像, キャプチャ ... followed by no Japanese (reason: file_name)."""

    name = "ja_filename_alt"
    Params = JaFileNameParams

    def setup(self) -> None:
        words = sorted(self.params.words, key=len, reverse=True)  # 全画面キャプチャ before キャプチャ
        self._start = re.compile("^(?:" + "|".join(re.escape(w) for w in words) + ")")

    def reject(self, record: Record) -> str | None:
        text = record_text(record).strip()
        m = self._start.match(text)
        if m is not None and not has_japanese(text[m.end() :]):
            return "file_name"
        return None

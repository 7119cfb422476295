"""Decode HTML bytes whose charset declaration may be wrong or missing (common on the Japanese web)."""

from __future__ import annotations

import codecs
import re

from resiliparse.parse.encoding import detect_encoding

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Web labels that Python spells differently, and superset encodings browsers use in their place.
_ALIASES = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "ms_kanji": "cp932",
    "x-euc-jp": "euc_jp",
    "euc-jp": "euc_jp",
    "iso-2022-jp": "iso2022_jp_ext",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}
_JAPANESE_FALLBACKS = ("cp932", "euc_jp")
_JAPANESE_CODECS = {
    "cp932",
    "euc_jp",
    "shift_jis",
    "iso2022_jp",
    "iso2022_jp_ext",
    "euc_jis_2004",
    "shift_jis_2004",
}


def normalize_charset(label: str | None) -> str | None:
    """The Python codec for a web charset label, or None when Python does not know it."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def meta_charset(head: bytes) -> str | None:
    """The charset a page declares in a <meta> tag within its first bytes."""
    m = _META_CHARSET.search(head[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


_HIRAGANA = re.compile("[\u3041-\u309f]")
_KATAKANA = re.compile("[\u30a0-\u30ff]")
# replacement char, C1 controls, half-width katakana, private use: the marks of mojibake
_MOJIBAKE = re.compile("[\ufffd\x80-\x9f\uff61-\uff9f\ue000-\uf8ff]")


def _plausibility(text: str, japanese_codec: bool) -> float:
    """Higher for text that reads as real text: kana count up (hiragana most), mojibake signs down.

    GB2312 and EUC-JP share their kana rows, so Japanese EUC-JP decoded as GBK keeps its kana and
    garbles only its kanji: kana-rich text therefore also earns a bonus under a Japanese codec.
    """
    hiragana = len(_HIRAGANA.findall(text))
    kana = 3 * hiragana + len(_KATAKANA.findall(text))
    return kana + (hiragana if japanese_codec else 0) - 5 * len(_MOJIBAKE.findall(text))


def _declared_japanese(body: bytes, enc: str | None) -> str | None:
    """The page decoded strictly with its declared Japanese codec, when that clearly reads as Japanese."""
    if enc not in _JAPANESE_CODECS:
        return None
    try:
        text = body.decode(enc)
    except UnicodeDecodeError:
        return None
    sample = text[:16384]
    return text if len(_HIRAGANA.findall(sample)) >= 20 and not _MOJIBAKE.search(sample) else None


def decode_html(body: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode a page; returns (text, codec). Trusts UTF-8 and BOMs, then scores candidate codecs."""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(enc, "replace"), enc
    if b"\x1b$B" in body or b"\x1b$@" in body:  # 7-bit, so it would pass as UTF-8: check first
        return body.decode("iso2022_jp_ext", "replace"), "iso2022_jp_ext"
    try:
        return body.decode("utf-8"), "utf-8"  # strict UTF-8 success on non-ASCII is near-certain
    except UnicodeDecodeError:
        pass
    stated = normalize_charset(declared) or normalize_charset(meta_charset(body))
    text = _declared_japanese(body, stated)
    if text is not None:  # the common case on the Japanese web, decided without a detector
        return text, stated  # type: ignore[return-value]
    candidates: list[str] = []
    for label in (declared, meta_charset(body), detect_encoding(body[:16384]), *_JAPANESE_FALLBACKS):
        enc = normalize_charset(label)
        if enc and enc not in candidates and enc != "utf-8":
            candidates.append(enc)
    sample = body[:32768]
    best_enc, best_score = "cp1252", float("-inf")
    for rank, enc in enumerate(candidates):
        # earlier candidates (declarations) win ties; a decode must be clearly better to override them
        score = _plausibility(sample.decode(enc, "replace"), enc in _JAPANESE_CODECS) - rank * 2
        if score > best_score:
            best_enc, best_score = enc, score
    return body.decode(best_enc, "replace"), best_enc

"""Japanese pages decode correctly whatever their charset declaration says."""

import pytest

from polyvlm.core.records import Document
from polyvlm.io.charset import decode_html
from polyvlm.io.html_extract import ExtractHtml

TEXT = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所で泣いていた事だけは記憶している。"


def _html(meta: str | None) -> str:
    head = f'<meta http-equiv="Content-Type" content="text/html; charset={meta}">' if meta else ""
    return f"<html><head>{head}<title>猫</title></head><body><p>{TEXT}</p></body></html>"


@pytest.mark.parametrize(
    "codec, http_charset, meta",
    [
        ("shift_jis", None, None),  # nothing declared
        ("shift_jis", "euc-jp", None),  # header lies
        ("shift_jis", None, "euc-jp"),  # meta lies
        ("cp932", "iso-8859-1", "iso-8859-1"),  # both say Latin-1
        ("euc_jp", "shift_jis", None),
        ("euc_jp", None, None),
        ("euc_jp", "utf-8", "utf-8"),
        ("iso2022_jp", None, None),
        ("iso2022_jp", "shift_jis", "shift_jis"),
        ("utf-8", "shift_jis", "shift_jis"),
        ("euc_jp", "gb2312", None),  # shares its kana rows with GB2312: only the kanji tell
        ("euc_jp", "gbk", "gbk"),
    ],
)
def test_japanese_decodes_despite_declarations(codec, http_charset, meta):
    body = _html(meta).encode(codec)
    text, used = decode_html(body, http_charset)
    assert TEXT in text, f"decoded with {used}"


@pytest.mark.parametrize(
    "text, codec",
    [
        ("Привет, как дела? Это страница на русском языке о пожарной безопасности.", "cp1251"),
        ("我国卫生与健康领域有了基本法，这是一部重要的法律。", "gbk"),
        ("Les idées reçues sur l'été à Montréal: déjà vu, très français.", "cp1252"),
    ],
)
def test_correct_declarations_of_other_languages_are_kept(text, codec):
    body = f"<html><head><meta charset={codec}></head><body><p>{text}</p></body></html>".encode(codec)
    decoded, _ = decode_html(body, None)
    assert text in decoded


def test_extract_html_on_real_euc_jp_crawl():
    from polyvlm.io.warc import ReadWarc

    docs = [d for d in ReadWarc().read("examples/data/warc/resiliparse__clueweb09-ja_part1.warc.gz")
            if isinstance(d, Document)]  # fmt: skip
    assert len(docs) == 19
    out = ExtractHtml().apply(docs[0])
    assert out.metadata["encoding"] == "euc_jp"
    assert "ブリーフケース" in out.metadata["title"] and "ブリーフケース" in out.text
    # the header claims gzip, the body is plain: repaired and noted, not dropped
    assert "gzip_header_but_plain_body" in docs[0].metadata["repairs"]

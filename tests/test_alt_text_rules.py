"""Each alt-text rule: cases that must be kept and cases that must be dropped (with the reason)."""

import pytest

from polyvlm.core.records import ImageRef, Pair
from polyvlm.core.step import Drop
from polyvlm.image.url_rules import ImageUrlFilter
from polyvlm.text.adult_ja import JaAdult
from polyvlm.text.alt_rules import AltTextRules
from polyvlm.text.ja import JaFileNameAlt, JaPlaceholderAlt, JaScript
from polyvlm.text.length import TextLength
from polyvlm.text.whitespace import NormalizeWhitespace


def _pair(text: str, url: str = "https://example.jp/img/photo.jpg") -> Pair:
    return Pair(id="p", text=text, image=ImageRef(url=url))


def _verdicts(step, keep: list[str], drop: list[str], reason: str) -> None:
    step.ensure_setup()
    for text in keep:
        assert not isinstance(step.apply(_pair(text)), Drop), f"{step.name} dropped {text!r}"
    for text in drop:
        assert step.apply(_pair(text)) == Drop(reason), f"{step.name} kept {text!r}"


def test_ja_script_keeps_hiragana_katakana_or_kanji():
    _verdicts(
        JaScript(),
        keep=["ねこ", "カメラ", "東京駅", "iPhoneのケース", "ｶﾒﾗ"],
        drop=["photo of a cat", "IMG_0001", "", "2015-01-20", "😀", "Фото"],
        reason="no_japanese_script",
    )
    _verdicts(JaScript(require_kana=True), keep=["東京の駅"], drop=["东京站"], reason="no_kana")


def test_ja_placeholders_are_dropped():
    _verdicts(
        JaPlaceholderAlt(),
        keep=["画像の説明", "alt属性の書き方", "この画像は桜です"],
        drop=[
            "画像に alt属性が指定されていません。ファイル名: IMG_1234.jpg",
            "この画像には alt属性が指定されておらず、ファイル名は xxx.png です",
            "  画像に alt属性が指定されていません。",
        ],
        reason="placeholder",
    )


def test_ja_file_name_like_alt_texts_are_dropped():
    _verdicts(
        JaFileNameAlt(),
        keep=[
            "写真で見る東京",
            "画像認識の仕組み",
            "キャプチャした画面の説明",
            "コピー機の使い方",
            "写真：桜の木",
        ],
        drop=[
            "写真 2015-01-20 18 12 33",
            "写真",
            "キャプチャ",
            "全画面キャプチャ 2016_03_01",
            "スクリーンショット 2019-04-01 10.22.33",
            "画像1",
            "ファイル_001.jpg",
            "コメント 2020-02-02 123456",
            "コピー (2)",
        ],
        reason="file_name",
    )


def test_ja_adult_uses_hojichar_keywords():
    _verdicts(JaAdult(), keep=["桜の咲く公園", "ほうじ茶", "アスパラガスのサラダ", "SMSの画面"],
              drop=["無修正動画はこちら", "SMクラブ", "アス"], reason="adult")  # fmt: skip
    # without the guards, HojiChar's substring matching: アス in アスパラガス, SM in SMS
    _verdicts(JaAdult(ignore_confused=False), keep=["桜の咲く公園"], drop=["アスパラガスのサラダ", "SMSの画面"],
              reason="adult")  # fmt: skip


def test_min_length():
    _verdicts(TextLength(min_chars=5), keep=["桜の咲く公園"], drop=["桜", "公園"], reason="too_short")


def test_whitespace_normalisation():
    step = NormalizeWhitespace()
    cases = {
        "  桜の 木 ": "桜の 木",
        "桜の\u3000\u3000木": "桜の 木",
        "桜の\n\n\t木": "桜の 木",
        "桜の\u3000木": "桜の\u3000木",  # a single (full-width) space is a character of the text, kept
        "a  b   c": "a b c",
    }
    for text, want in cases.items():
        assert step.apply(_pair(text)).text == want


@pytest.mark.parametrize(
    ("language", "keep", "drop"),
    [
        ("en", ["A man ironing clothes on a taxi", "Wooden pier on a mountain lake"],
         ["image", "Photo 3", "IMG_1234", "DSC00231.JPG", "logo", "20150120_181233", "two words"]),
        ("fr", ["Un homme repasse sur un taxi", "La jetée en bois du lac"],
         ["Image à la une", "vignette", "photo-12", "sans titre", "deux mots"]),
        ("de", ["Holzsteg am Bergsee", "Ein Mann bügelt auf einem Taxi"],
         ["Bild", "Symbolbild", "Bildschirmfoto 2020-01-01", "Foto:", "Steg"]),
        ("it", ["Un uomo stira sul taxi", "Pontile di legno sul lago"],
         ["immagine", "Foto 2", "senza titolo", "due parole"]),
        ("es", ["Un hombre plancha sobre un taxi", "Muelle de madera en el lago"],
         ["imagen destacada", "Foto", "captura de pantalla", "dos palabras"]),
    ],
)  # fmt: skip
def test_latin_alt_text_rules(language, keep, drop):
    step = AltTextRules(language=language)
    for text in keep:
        assert not isinstance(step.apply(_pair(text)), Drop), (language, text)
    for text in drop:
        assert isinstance(step.apply(_pair(text)), Drop), (language, text)
    assert step.apply(_pair("x" * 501)) == Drop("too_long")


def test_image_url_rules():
    step = ImageUrlFilter()
    step.ensure_setup()
    keep = ["https://a.jp/p/1.jpg", "https://a.jp/p/1.JPEG?w=300", "https://a.jp/%E5%86%99.png"]
    drop = {
        "https://a.jp/p/1.gif": "url_extension:.gif",
        "https://a.jp/p/photo": "url_extension:none",
        "https://a.jp/img/site-logo.png": "url_word:logo",
        "https://a.jp/Button_ok.jpg": "url_word:button",
        "https://a.jp/wp-content/plugins/x/a.jpg": "url_word:plugin",
        "https://a.jp/widgets/a.jpg": "url_word:widget",
        "https://a.jp/favicon.png": "url_word:icon",
    }
    for url in keep:
        assert not isinstance(step.apply(_pair("桜", url)), Drop), url
    for url, reason in drop.items():
        assert step.apply(_pair("桜", url)) == Drop(reason), url


def test_latin_rules_follow_each_pairs_language_in_auto_mode():
    step = AltTextRules()  # language: auto
    de, fr = _pair("Symbolbild"), _pair("Symbolbild")
    de.language, fr.language = "de", "fr"
    assert step.apply(de) == Drop("placeholder")  # a German placeholder
    assert step.apply(fr) == Drop("too_few_words")  # not a French one: only the word count applies
    two = _pair("Holzsteg Bergsee")
    two.language = "de"
    assert not isinstance(step.apply(two), Drop)  # German needs two words, French and English three
    two.language = "fr"
    assert step.apply(two) == Drop("too_few_words")

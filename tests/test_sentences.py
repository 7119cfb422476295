"""split_sentences on real Japanese paragraphs (from the bundled pages under examples/data/ja-pages/ and
examples/data/html/), the repair rules one by one, other languages, and images kept in their places."""

from __future__ import annotations

import pytest

from polyvlm.core.records import Document, ImageRef, Pair
from polyvlm.core.step import Drop
from polyvlm.text.sentence_rules import is_symbols_only, regex_sentences, repair
from polyvlm.text.sentences import SplitSentences, split_segments

# (paragraph as extracted from a bundled page, expected sentences)
REAL_JA = [
    (  # postlight__www.asahi.com.html: a quotation ending in ！ inside 「」; the 」 goes back to its sentence
        "文化庁は１日、アート、エンターテインメント、アニメーション、マンガの４部門で優れた作品を顕彰する"
        "今年度のメディア芸術祭賞を発表した。エンターテインメント部門の大賞はＮＨＫのテレビ番組「チコちゃんに叱られる！」が受賞した。",
        [
            "文化庁は１日、アート、エンターテインメント、アニメーション、マンガの４部門で優れた作品を顕彰する"
            "今年度のメディア芸術祭賞を発表した。",
            "エンターテインメント部門の大賞はＮＨＫのテレビ番組「チコちゃんに叱られる！」",
            "が受賞した。",
        ],
    ),
    (  # postlight__www.lifehacker.jp.html: a headline in 【】
        "【Amazonタイムセール中！】夏の暑さ対策におすすめ！ネッククールリングが59%オフ、接触冷感ブランケットが2000円台とお買い得！",
        [
            "【Amazonタイムセール中！】",
            "夏の暑さ対策におすすめ！",
            "ネッククールリングが59%オフ、接触冷感ブランケットが2000円台とお買い得！",
        ],
    ),
    (  # postlight__www.elecom.co.jp.html: a lone 。 after （※） is symbols only and joins its sentence
        "いずれもキーを押した際の重さが、当社従来品と比較して約18％軽く、小さい力でキー入力が可能です（※）。"
        "最薄部は約12.7mmで、スタイリッシュな薄型設計となっています。 ※TK-FCM075TBKとの比較",
        [
            "いずれもキーを押した際の重さが、当社従来品と比較して約18％軽く、小さい力でキー入力が可能です（※）。",
            "最薄部は約12.7mmで、スタイリッシュな薄型設計となっています。",
            "※TK-FCM075TBKとの比較",
        ],
    ),
    (  # postlight__www.gizmodo.jp.html: half-width ｢｣ around several exclamations
        "一方で、｢俺は！ 推しが出るまで！ 回すのを止めないッ！｣と心に誓った時には小銭足りなさにもどかしい思いをすることもあるので、"
        "この進化はどちらかといえばウェルカムかな！ そもそも日常的に小銭持ち歩かなくなったしー。",
        [
            "一方で、｢俺は！",
            "推しが出るまで！",
            "回すのを止めないッ！｣",
            "と心に誓った時には小銭足りなさにもどかしい思いをすることもあるので、この進化はどちらかといえばウェルカムかな！",
            "そもそも日常的に小銭持ち歩かなくなったしー。",
        ],
    ),
    (  # postlight__wired.jp.html: full-width parentheses around a period
        "例えば、カンマ（,）やピリオド（.）だけサイズを大きくするといったことで、ニックスは「こうした状況は冗談で、"
        "“Helveticaのストックホルム症候群”と呼ばれています」と話す。",
        [
            "例えば、カンマ（,）",
            "やピリオド（.）",
            "だけサイズを大きくするといったことで、ニックスは「こうした状況は冗談で、“Helveticaのストックホルム症候群”と呼ばれています」と話す。",
        ],
    ),
    (  # python-readability__utf-8-kanji.sample.html (草枕): a run of …… joins the sentence before it
        "少し食えば飽き足らぬ。存分食えばあとが不愉快だ。…… \u3000余の考がここまで漂流して来た時に、余の右足は突然坐りのわるい角石の端を踏み損くなった。",
        [
            "少し食えば飽き足らぬ。",
            "存分食えばあとが不愉快だ。……",
            "余の考がここまで漂流して来た時に、余の右足は突然坐りのわるい角石の端を踏み損くなった。",
        ],
    ),
]


@pytest.mark.parametrize("paragraph,expected", REAL_JA, ids=[e[1][0][:8] for e in REAL_JA])
def test_real_japanese_paragraphs(paragraph, expected):
    sentences, starts = split_segments([paragraph], "ja")
    assert sentences == expected
    assert starts == [0, len(expected)]


def test_lists_emoticons_and_symbol_runs():
    # written in the style of the pages above (no bundled page has an emoticon or a star rating)
    text = (
        "おすすめの理由は3つ。\n・安い\n・軽い\n・丈夫\n使ってみました(^_^) 最高です！！ ★★★★☆ また買います。"
    )
    sentences, _ = split_segments([text], "ja")
    assert sentences == [
        "おすすめの理由は3つ。",
        "・安い",
        "・軽い",
        "・丈夫",
        "使ってみました(^_^)",
        "最高です！！ ★★★★☆",
        "また買います。",
    ]


def test_repair_rules_one_by_one():
    assert repair(["「行くよ。", "」と彼は言った。"]) == ["「行くよ。」", "と彼は言った。"]
    assert repair(["彼は言った（笑", "））そして去った。"]) == ["彼は言った（笑））", "そして去った。"]
    assert repair(["すごい！ ", "★★★", " 本当です。"]) == ["すごい！ ★★★", "本当です。"]
    assert repair(["→→→", "次のページ。"]) == ["→→→次のページ。"]  # nothing before: in front of the next one
    assert repair(["※※※"]) == ["※※※"]  # a segment of symbols only is kept, not dropped
    assert repair(["」"]) == ["」"]  # nothing before it to move to
    assert repair(["価格は1,000円。", "（税込）"]) == ["価格は1,000円。", "（税込）"]  # 税込: not symbols
    assert is_symbols_only("(^_^;)") and is_symbols_only("！？…") and not is_symbols_only("ｗｗｗ")
    assert not is_symbols_only("3.") and not is_symbols_only("OK")


def test_other_languages():
    sentences, _ = split_segments(['Dr. Smith went to Washington. He said: "Hi." Then left!'], "en")
    assert sentences == ["Dr. Smith went to Washington.", 'He said: "Hi."', "Then left!"]
    sentences, _ = split_segments(["Das ist z.B. ein Satz. Und noch einer."], "de")
    assert sentences == ["Das ist z.B. ein Satz.", "Und noch einer."]
    # no pysbd rules for Swahili: the regex splitter, also at line breaks
    sentences, _ = split_segments(["Habari ya asubuhi. Karibu sana!\nAsante"], "sw")
    assert sentences == ["Habari ya asubuhi.", "Karibu sana!", "Asante"]
    assert regex_sentences("One. Two?  Three") == ["One. ", "Two?  ", "Three"]


def test_images_keep_their_places():
    doc = Document(
        id="d",
        language="ja",
        texts=["最初の段落です。二文目です。", "  ", "次の段落。その二。その三。"],
        images=[
            ImageRef(url="a", segment_index=0),  # before everything
            ImageRef(url="b", segment_index=1),  # before the empty segment: before the next sentence
            ImageRef(url="c", segment_index=2),
            ImageRef(url="d", segment_index=3),  # after the last segment
            ImageRef(url="e"),  # no position: left alone
        ],
    )
    out = SplitSentences().apply(doc)
    assert out.texts == ["最初の段落です。", "二文目です。", "次の段落。", "その二。", "その三。"]
    assert [im.segment_index for im in out.images] == [0, 2, 2, 5, None]
    assert out.metadata["sentence_segment"] == [0, 0, 2, 2, 2]


def test_bad_input_is_dropped_with_a_reason():
    step = SplitSentences()
    assert step.apply(Pair(id="p", text="文です。")) == Drop("not_a_document")
    assert step.apply(Document(id="d", texts=["文です。"])).reason == "no_language"
    assert SplitSentences(language="ja").apply(Document(id="d", texts=["文です。"])).texts == ["文です。"]
    bad = Document(id="d", language="ja", texts=["文です。"], images=[ImageRef(segment_index=5)])
    assert step.apply(bad).reason == "bad_segment_index"

"""extract_html's precision rules, each on a small page of its own: link lists, lead-in links, promo boxes,
site headers, UI blocks by class, notices; and the cases each rule must leave alone."""

from polyvlm.core.records import Document
from polyvlm.io.html_extract import ExtractHtml
from polyvlm.io.link_density import LINK_CLOSE, LINK_OPEN, drop_link_lines

BODY = "<p>" + "本文の段落です。町の図書館が新しくなりました。" * 12 + "</p>"


def _text(body: str) -> str:
    html = f"<html><head><title>t</title></head><body>{body}</body></html>"
    out = ExtractHtml().apply(Document(id="x", raw=html.encode(), raw_content_type="text/html"))
    return out.text


def _link(text: str) -> str:
    return f"{LINK_OPEN}{text}{LINK_CLOSE}"


def test_a_list_of_links_and_its_heading_go_a_lone_link_under_a_label_stays():
    lines = [
        "記事の本文です。",
        "関連記事",
        _link("別の記事A"),
        _link("別の記事B"),
        "きょうの記念日",
        _link("元旦"),
    ]
    assert drop_link_lines(lines) == ["記事の本文です。", "きょうの記念日", "元旦"]


def test_a_link_spanning_lines_counts_on_every_line():
    lines = [
        "本文です。",
        _link("カードの見出し").replace(LINK_CLOSE, ""),
        "カードの説明" + LINK_CLOSE,
        "本文の続き。",
    ]
    assert drop_link_lines(lines) == ["本文です。", "本文の続き。"]


def test_read_more_lines_and_link_lists_leave_the_page():
    page = (
        f"<article>{BODY}<p><em>Read more</em>: <a href='/a'>Looted colonial art returns home</a></p>{BODY}"
        "<h2>カテゴリ別新着記事</h2><div><p><a href='/1'>新着記事その一の見出し</a></p>"
        "<p><a href='/2'>新着記事その二の見出し</a></p><p><a href='/3'>もっと見る</a></p></div></article>"
    )
    text = _text(page)
    assert "本文の段落です" in text
    assert "Looted colonial art" not in text and "新着記事その一" not in text and "もっと見る" not in text
    assert "カテゴリ別新着記事" not in text


def test_a_link_inside_a_sentence_stays():
    page = f"<article>{BODY}<p>詳しくは<a href='/x'>市の発表</a>をご覧ください。図書館は来月から夜九時まで開きます。</p></article>"
    assert "詳しくは市の発表をご覧ください。" in _text(page)


def test_a_promo_box_around_a_link_button_goes_a_toggle_button_keeps_its_text():
    promo = (
        "<div class='asset-box'><div>Abo-Angebote</div><p>Den Newsletter lesen und Vorteile sichern!</p>"
        "<a class='form-button' href='https://abo.example/'>Jetzt Abo sichern</a></div>"
    )
    summary = (
        "<div class='summary'><p>偉人の思い出が紡ぐ、心あたたまる物語。町の食堂に今日も客が来る。</p>"
        "<div class='toggle-btn'>続きを読む</div></div>"
    )
    text = _text(f"<article>{BODY}{summary}{promo}</article>")
    assert "Vorteile sichern" not in text and "Jetzt Abo" not in text
    assert "心あたたまる物語" in text and "続きを読む" not in text


def test_the_site_masthead_goes_the_article_header_stays():
    page = (
        "<header class='site'><dl><dt>注目検索ワード</dt><dd>情報漏えい</dd></dl></header><main><article>"
        "<header><p>阪南大学は、学生情報を保存したUSBメモリを紛失したと発表した。</p></header>"
        f"{BODY}</article></main>"
    )
    text = _text(page)
    assert "注目検索ワード" not in text and "USBメモリを紛失した" in text


def test_rankings_dialogs_and_back_to_top_blocks_go_by_class():
    page = (
        f"<article>{BODY}<div class='scrap-modal'><p>メモ入力</p><p>最大400文字まで</p></div>"
        "<div class='category-ranking'><h2>アクセスランキング</h2><p>一位の記事は駅前の再開発です。</p></div>"
        "<div class='p-pagetop'><p>ページの先頭へ戻る</p></div></article>"
    )
    text = _text(page)
    assert "本文の段落です" in text
    for gone in ("メモ入力", "アクセスランキング", "一位の記事", "ページの先頭"):
        assert gone not in text


def test_short_copyright_notices_go_a_sentence_about_copyright_stays():
    about = "<p>著作権法の改正で、図書館は絶版になった資料を複写して利用者に送れるようになり、研究者の負担が軽くなった。地方の研究者からは歓迎の声が上がっている。</p>"
    page = f"<article><div class='attention'><p>無断転載禁止</p></div>{BODY}{about}<p>© 2024 Example News</p></article>"
    text = _text(page)
    assert "無断転載禁止" not in text and "Example News" not in text
    assert "著作権法の改正で" in text

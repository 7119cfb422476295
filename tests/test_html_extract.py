"""extract_html on real pages and on the cases its repairs exist for."""

import pytest

from polyvlm.core.records import Document
from polyvlm.core.step import Drop
from polyvlm.io.html_extract import ExtractHtml


def _extract(raw: bytes, url: str = "", content_type: str = "text/html", **params):
    return ExtractHtml(**params).apply(Document(id="x", url=url, raw=raw, raw_content_type=content_type))


def test_nhk_easy_ruby_and_single_kanji_nodes(root):
    doc = _extract((root / "examples/data/html/trafilatura__nhk.or.jp.k100.html").read_bytes())
    text = doc.text
    # gold snippets (trafilatura's evaluation data): readings removed, lone 親 kept
    assert "子どもへの虐待をなくすための法律ができて、親が子どもを教育するために、" in text
    assert "法律では虐待をした親に専門家が子どもの育て方を" in text
    assert "ぎゃくたい" not in text and "\u200b" not in text


def test_article_inside_a_share_classed_container_is_kept(root):
    doc = _extract((root / "examples/data/html/trafilatura__franceculture.fr.idees.html").read_bytes())
    assert "Les individus productifs communiquent" in doc.text
    assert "de nos espoirs et de nos désirs." in doc.text


def test_boilerplate_blocks_are_pruned_but_long_blocks_are_not():
    article = "<p>" + "本文の段落です。" * 60 + "</p>"
    html = (f"<html><body><article><h1>見出し</h1>{article}"
            "<div class='related-stories'><p>関連記事：別のニュースの見出しがここに入ります</p></div>"
            f"<div class='comment-section'>{article}</div>"
            "<p class='article-copyright'>Copyright 2024 Example Corp. All rights reserved.</p></article></body></html>")  # fmt: skip
    doc = _extract(html.encode())
    assert "本文の段落です。" in doc.text
    assert "関連記事" not in doc.text and "All rights reserved" not in doc.text


@pytest.mark.parametrize("main_content", [True, False])
def test_icon_font_ligature_names_are_not_text(root, main_content):
    # getnews.jp writes its date and category icons as <i class="material-icons">access_time</i>
    page = (root / "examples/data/ja-pages/postlight__getnews.jp.html").read_bytes()
    assert b'<i class="material-icons">access_time</i>' in page
    text = _extract(page, main_content=main_content).text
    assert "気軽に新聞をスクラップできる" in text and ("生活・趣味" in text or main_content)
    assert "access_time" not in text and "create folder" not in text
    html = ("<html><body><article><p>" + "本文の段落です。" * 40 + "</p><span class='btn material-symbols-outlined'>"
            "home</span><span class='material-iconsish'>残す</span></article></body></html>")  # fmt: skip
    text = _extract(html.encode(), main_content=main_content).text
    assert "home" not in text and "残す" in text  # only the icon fonts' own classes


def test_images_get_absolute_urls_alt_and_dom_position():
    html = b"""<html><head><base href="/static/"><title>t</title></head><body><article>
    <p>Un texte assez long pour rester dans le contenu principal de la page, vraiment.</p>
    <img src="a.jpg" alt=" Une photo "><img data-src="https://cdn.example/b.png" alt="">
    <img src="data:image/png;base64,AAAA"><img src="//other.example/c.jpg"></article></body></html>"""
    doc = _extract(html, url="https://site.example/dir/page.html")
    assert [im.url for im in doc.images] == [
        "https://site.example/static/a.jpg", "https://cdn.example/b.png", "https://other.example/c.jpg"
    ]  # fmt: skip
    assert doc.images[0].alt == "Une photo"
    positions = [im.dom_index for im in doc.images]
    assert positions == sorted(positions) and len(set(positions)) == 3
    assert doc.metadata["images_without_url"] == 1 and doc.metadata["title"] == "t"


@pytest.mark.parametrize(
    "raw, ctype, status, reason",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png", 200, "not_html:image/png"),
        (b"<html><body><p>gone</p></body></html>", "text/html", 404, "http_status:404"),
        (b"  \n ", "text/html", 200, "empty_body"),
        (b"\x00\x01\x02garbage", "text/html", 200, "binary_body"),
        (b"%PDF-1.4 ...", "", 200, "not_html:unknown"),
        (b"<html><body><script>var a=1;</script></body></html>", "text/html", 200, "no_text"),
    ],
)
def test_drops_have_reasons(raw, ctype, status, reason):
    doc = Document(id="x", raw=raw, raw_content_type=ctype, metadata={"http_status": status})
    assert ExtractHtml().apply(doc) == Drop(reason)


def test_untyped_html_is_sniffed():
    doc = _extract(
        b"<!DOCTYPE html><html><body><p>" + b"Hallo Welt. " * 20 + b"</p></body></html>", content_type=""
    )
    assert "Hallo Welt." in doc.text


TRICKY_SRCS = [
    "/a/b.png?x=1&y=2", "/写真/猫.jpg", "//cdn.example.com:8080/i.png?w=3", "//cdn.example.com", "img/a.png",
    "../up.png", "/a/./b.png", "/a/../b.png", "/a?", "/a#", "/a#frag", "/a;p", "/;", "//", "///x", "//#x",
    "//a/b?", "/a b.png", "/a\tb.png", "/a\nb.png", "?q=1", "#top", "//1]1", "/[x]", "/a?#", "/a?b?c",
]  # fmt: skip


@pytest.mark.parametrize("base", ["http://example.com/dir/page.html", "https://User@Ex.com:8080/x/y/?q#f",
                                  "HTTP://a.b/c"])  # fmt: skip
def test_absolute_urls_are_what_urljoin_gives(base):
    from urllib.parse import urljoin, urlsplit

    from polyvlm.io.html_extract import absolute_url

    parts = urlsplit(base)
    for src in TRICKY_SRCS:
        try:
            expected = urljoin(base, src)
        except ValueError:
            with pytest.raises(ValueError):
                absolute_url(base, (parts.scheme, parts.netloc), src)
            continue
        assert absolute_url(base, (parts.scheme, parts.netloc), src) == expected, src


def extracted(head: str, tail: str, url: str) -> Document:
    """A page of Japanese text between ``head`` and ``tail``, through extract_html."""
    html = f"<html><head>{head}</head><body><p>{'本文です。' * 20}</p>{tail}</body></html>".encode()
    return ExtractHtml().apply(Document(id="d", url=url, raw=html, raw_content_type="text/html"))


def test_an_image_url_that_parsing_refuses_is_skipped_not_raised():
    out = extracted("", '<img src="//[x"><img src="/ok.png">', "https://example.com/p")
    assert [im.url for im in out.images] == ["https://example.com/ok.png"]
    assert out.metadata["images_without_url"] == 1
    out = extracted('<base href="//[x">', '<img src="a.png">', "https://example.com/d/p")
    assert [im.url for im in out.images] == ["https://example.com/d/a.png"]  # the page's own URL stands

"""Per-image verdicts of fetch_images, image_url_filter, encode_jpeg, clip_score inside documents; the document rules."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from polyvlm.core.records import Document, ImageRef, Pair
from polyvlm.core.step import Drop
from polyvlm.image.clip_step import ClipScore
from polyvlm.image.encode_step import EncodeJpeg
from polyvlm.image.fetch_step import FetchImages
from polyvlm.image.image_count import ImageCount
from polyvlm.image.url_rules import ImageUrlFilter
from polyvlm.io.html_extract import ExtractHtml
from polyvlm.io.image_positions import place_images
from polyvlm.model.token_length import TokenLength
from polyvlm.text.harmful_text import HarmfulText
from polyvlm.text.sentence_count import SentenceCount
from test_image_scores import tiny_clip  # noqa: F401  (a fixture: a tiny random CLIP saved to disk)

PHOTOS = Path(__file__).parents[1] / "examples" / "data" / "photos"
JPEG = (PHOTOS / "llava__waterview.jpg").read_bytes()


def _png() -> bytes:
    """The photo as a PNG (made here: encode_jpeg must re-encode it)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(JPEG)).save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


@pytest.fixture(scope="module")
def server():
    """A real HTTP server on 127.0.0.1: /photo.jpg is a photo, /page.jpg an HTML page, anything else 404."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 — the http.server API
            body, kind = {
                "/photo.jpg": (JPEG, "image/jpeg"),
                "/page.jpg": (b"<html><body>x</body></html>", "text/html"),
            }.get(self.path, (None, ""))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _doc(urls: list[str], data: list[bytes | None] | None = None) -> Document:
    data = data or [None] * len(urls)
    return Document(id="d", language="ja", texts=["一。", "二。"],
                    images=[ImageRef(url=u, data=d, segment_index=1) for u, d in zip(urls, data, strict=True)])  # fmt: skip


def test_fetch_images_judges_each_image_of_a_document(server, tmp_path):
    step = FetchImages(allow_addresses=["127.0.0.1"], cache_dir=str(tmp_path), retries=0)
    step.check()
    step.setup()
    doc = _doc([f"{server}/photo.jpg", f"{server}/page.jpg", f"{server}/gone.jpg", "ftp://x/y.jpg", "held.jpg"],
               [None, None, None, None, PNG])  # fmt: skip
    pair = Pair(id="p", image=ImageRef(url=f"{server}/gone.jpg"))
    out_doc, out_pair = step.apply_batch([doc, pair])
    assert isinstance(out_doc, Document) and [im.url for im in out_doc.images] == [
        f"{server}/photo.jpg",
        "held.jpg",
    ]
    assert out_doc.images[0].data == JPEG and out_doc.images[0].format == "jpeg"
    assert out_doc.images[1].data == PNG  # held bytes are not fetched again
    reasons = {d["url"].rsplit("/", 1)[-1]: d["reason"] for d in out_doc.metadata["image_drops"]}
    assert reasons == {"page.jpg": "not_an_image", "gone.jpg": "http_404", "y.jpg": "bad_scheme"}
    assert isinstance(out_pair, Drop) and out_pair.reason == "http_404"  # a pair goes whole, as before
    m = step.metrics()
    assert (
        m["images_dropped:not_an_image"] == 1
        and m["images_dropped:http_404"] == 1
        and m["images_from_http"] == 1
    )


def test_url_filter_and_encode_jpeg_judge_each_image():
    doc = _doc(["https://a.jp/photo.jpg", "https://a.jp/logo.png", "https://a.jp/anim.gif", "https://a.jp/p.png"],
               [JPEG, PNG, PNG, b"\x89PNG broken"])  # fmt: skip
    step = ImageUrlFilter()
    step.setup()
    out = step.apply(doc)
    assert [im.url for im in out.images] == ["https://a.jp/photo.jpg", "https://a.jp/p.png"]
    assert step.metrics() == {"images_dropped:url_word:logo": 1.0, "images_dropped:url_extension:.gif": 1.0}
    assert step.apply(Pair(id="p", image=ImageRef(url="https://a.jp/anim.gif"))) == Drop("url_extension:.gif")
    out.images.append(ImageRef(url="https://a.jp/q.png", data=PNG))
    encoded = EncodeJpeg().apply(out)
    assert [im.url for im in encoded.images] == ["https://a.jp/photo.jpg", "https://a.jp/q.png"]
    assert encoded.images[0].data == JPEG  # a plain JPEG keeps its bytes
    assert encoded.images[1].data[:3] == b"\xff\xd8\xff" and encoded.images[1].format == "jpeg"
    assert encoded.metadata["reencoded_images"][0]["url"] == "https://a.jp/q.png"
    assert encoded.metadata["image_drops"][-1]["step"] == "encode_jpeg"


def test_clip_score_scores_document_images_against_their_alt_text(tiny_clip):  # noqa: F811
    step = ClipScore(model=tiny_clip)
    step.setup()
    doc = _doc(["https://a.jp/1.jpg", "https://a.jp/2.jpg", "https://a.jp/3.jpg"], [JPEG, JPEG, b"broken"])
    doc.images[0].alt, doc.images[2].alt = "湖の桟橋", "壊れた画像"
    out = step.apply_batch([doc])[0]
    assert [im.url for im in out.images] == ["https://a.jp/1.jpg", "https://a.jp/2.jpg"]
    assert "clip" in out.images[0].scores and "clip" not in out.images[1].scores  # no alt text, no score
    pair = step.apply_batch([Pair(id="p", text="湖の桟橋", image=ImageRef(data=JPEG))])[0]
    assert pair.image.scores["clip"] == pytest.approx(out.images[0].scores["clip"], abs=1e-5)
    assert out.metadata["image_drops"][0]["reason"] == "clip_unloadable_image"


def test_image_positions_follow_the_page():
    html = ("<html><body><article><h1>見出し</h1><p>最初の段落です。本文が続きます。</p><img src='/a.jpg'>"
            "<p>二番目の段落です。<img src='/b.jpg'>文の途中の画像。</p><div><img src='/c.jpg'></div><p>三番目。</p>"
            "</article></body></html>")  # fmt: skip
    doc = Document(id="d", url="https://ex.jp/", raw=html.encode(), raw_content_type="text/html")
    out = ExtractHtml(main_content=False, image_positions=True).apply(doc)
    assert out.texts == [
        "見出し",
        "最初の段落です。本文が続きます。",
        "二番目の段落です。文の途中の画像。",
        "三番目。",
    ]
    assert [im.segment_index for im in out.images] == [2, 3, 3]  # an image inside a paragraph goes after it
    plain = ExtractHtml(main_content=False).apply(Document(id="d", url="https://ex.jp/", raw=html.encode(),
                                                           raw_content_type="text/html"))  # fmt: skip
    assert plain.texts == out.texts and all(im.segment_index is None for im in plain.images)
    images = [ImageRef(), ImageRef()]
    assert place_images(["\ue0000\ue001前", "後\ue0001\ue001"], images) == ["前", "後"]
    assert [im.segment_index for im in images] == [0, 2]


def test_count_rules():
    doc = Document(id="d", texts=[f"{i}。" for i in range(12)], images=[ImageRef() for _ in range(3)])
    assert ImageCount().apply(doc) is doc and SentenceCount().apply(doc) is doc
    assert ImageCount(min_images=4).apply(doc) == Drop("too_few_images")
    assert ImageCount(max_images=2).apply(doc) == Drop("too_many_images")
    assert SentenceCount(min_sentences=13).apply(doc) == Drop("too_few_sentences")
    assert SentenceCount(max_sentences=11).apply(doc) == Drop("too_many_sentences")


def test_token_length_counts_with_the_real_qwen_tokenizer():
    from polyvlm.model.tokenizer import build_qwen_tokenizer

    texts = ["吾輩は猫である。", "名前はまだ無い。"] * 20
    doc = Document(id="d", texts=texts, images=[ImageRef(), ImageRef()])
    n = len(  # Japanese sentences run on without spaces, as the mmc4 training reader joins them
        build_qwen_tokenizer(with_image_tokens=False)("".join(texts), add_special_tokens=False)["input_ids"]
    )
    assert 40 < n < 400  # Japanese: a few characters per token
    step = TokenLength(max_tokens=n + 20, tokens_per_image=10)
    step.setup()
    assert step.apply(doc) is doc and doc.metadata["tokens"] == n + 20
    tight = TokenLength(max_tokens=n + 19, tokens_per_image=10)
    tight.setup()
    assert tight.apply(doc).reason == "too_many_tokens"
    # the exact PolyVLM count of a 1176x910 image under 12 tiles is 1744 (docs/model.md); a size is needed
    exact = TokenLength(image_tokens="polyvlm", max_tokens=n + 2 * 1744)
    exact.setup()
    sized = Document(id="s", texts=texts, images=[ImageRef(width=1176, height=910) for _ in range(2)])
    assert exact.apply(sized) is sized and sized.metadata["tokens"] == n + 2 * 1744
    assert exact.apply(doc).reason == "unknown_image_size"


def test_harmful_text_uses_hojichars_japanese_lists():
    import hojichar

    words = (Path(hojichar.__file__).parent / "dict" / "violence_keywords_ja.txt").read_text().split()
    step = HarmfulText()
    step.setup()
    bad = Document(id="b", language="ja", texts=["今日は晴れ。", f"{words[0]}という話。"])
    assert step.apply(bad) == Drop("harmful_text:violence", f"keyword {words[0]!r}")
    # HojiChar's guard: a katakana keyword inside a longer katakana word is no hit (アス in アスパラガス)
    assert step.apply(Document(id="a", language="ja", texts=["アスパラガスを茹でた。"])).language == "ja"
    unguarded = HarmfulText(ignore_confused=False, categories=["adult"])
    unguarded.setup()
    assert (
        unguarded.apply(Document(id="a", language="ja", texts=["アスパラガスを茹でた。"])).reason
        == "harmful_text:adult"
    )
    good = Document(id="g", language="ja", texts=["ほうじ茶を飲んだ。"])
    assert step.apply(good) is good
    # our guard for Latin keywords: SM (in HojiChar's adult list) inside SMS or SMB is no hit; alone it is
    sms = Document(id="s", language="ja", texts=["SMSで認証コードを送ります。SMBの共有フォルダ。"])
    assert step.apply(sms) is sms
    assert unguarded.apply(sms).reason == "harmful_text:adult"
    assert step.apply(Document(id="m", language="ja", texts=["SMクラブの広告。"])) == Drop(
        "harmful_text:adult", "keyword 'SM'"
    )
    english = HarmfulText(categories=["adult"])
    english.setup()
    assert english.apply(Document(id="e", language="en", texts=["free adult videos"])) == Drop(
        "harmful_text:adult", "keyword 'adult'"
    )  # HojiChar's English list, case-insensitive, between spaces or punctuation
    other = Document(id="o", language="fr", texts=[f"{words[0]}"])
    assert step.apply(other) is other and step.metrics() == {"unjudged:fr": 1.0}


def test_reading_order_joins_sentences_as_the_language_writes_them():
    from polyvlm.io.interleaved_order import mmc4_text_index, reading_order

    doc = Document(id="d", language="ja", texts=["一文目。", "二文目。", "次の段落。", "最後。"],
                   metadata={"sentence_segment": [0, 0, 1, 1]},
                   images=[ImageRef(segment_index=2), ImageRef(segment_index=0), ImageRef(segment_index=4)])  # fmt: skip
    assert reading_order(doc) == [1, "一文目。二文目。", 0, "次の段落。最後。", 2]
    doc.language = "en"
    doc.metadata["sentence_segment"] = [0, 1, 1, 1]
    assert reading_order(doc)[1] == "一文目。\n\n二文目。"
    assert reading_order(doc)[3] == "次の段落。 最後。"
    # mmc4 has no "after the last sentence": such an image gets the last sentence's index
    assert [mmc4_text_index(im, 4) for im in doc.images] == [2, 0, 3]
    assert mmc4_text_index(ImageRef(), 4) is None and mmc4_text_index(ImageRef(segment_index=0), 0) is None

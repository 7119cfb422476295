"""extract_html: decode a page, keep its main text as ordered segments and its <img> elements."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from resiliparse.extract.html2text import extract_plain_text
from selectolax.lexbor import LexborHTMLParser

from polyvlm.core.records import Document, ImageRef, Record
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.io.boilerplate import ZWSP, pad_lone_characters, prune
from polyvlm.io.charset import decode_html
from polyvlm.io.icon_ligatures import drop_icon_ligatures
from polyvlm.io.image_positions import mark_images, place_images
from polyvlm.io.link_density import drop_link_lines, mark_links, strip_link_marks
from polyvlm.io.notice_lines import drop_notice_lines

HTML_TYPES = {"text/html", "application/xhtml+xml", "application/xml", "text/xml"}
_SNIFF = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title)", re.I | re.S)
# ruby readings would be spliced into the words they annotate (漢字かんじ), and resiliparse's
# main-content rules drop <ruby> elements whole: keep the base text only
_RUBY = re.compile(r"<r[tp]\b[^>]*>.*?</r[tp]\s*>|</?(?:ruby|rb)\b[^>]*>", re.I | re.S)
_LAZY_SRC = ("src", "data-src", "data-original", "data-lazy-src")
_PATH = r"[\w\-.~%!$&'()*+,=:@/]*"  # plain URL characters (and letters of any script), as urljoin keeps them
_QUERY = r"(?:\?[\w\-.~%!$&'()*+,=:@/?]+)?"
_ROOT_RELATIVE = re.compile(r"/(?!/)" + _PATH + _QUERY)  # "/path?query", never "//"
_SCHEME_RELATIVE = re.compile(r"//[A-Za-z0-9][A-Za-z0-9.\-]*(?::[0-9]+)?(?:/" + _PATH + ")?" + _QUERY)


class ExtractHtmlParams(Params):
    """Parameters of extract_html."""

    main_content: bool = True
    """keep the main content only (boilerplate removal); false keeps all visible text"""
    keep_raw: bool = False
    """keep the raw payload in the record after extraction"""
    min_status: int = 200
    """lowest HTTP status kept (others: http_status:<code>)"""
    max_status: int = 299
    """highest HTTP status kept"""
    image_positions: bool = False
    """set each image's segment_index (the text segment it stands before; None when outside the kept text), for interleaved documents"""


def looks_like_html(content_type: str, body: bytes) -> bool:
    """True when the declared type is HTML, or no useful type is declared and the bytes sniff as HTML."""
    if content_type in HTML_TYPES:
        return True
    if content_type in ("", "text/plain", "application/octet-stream", "unk"):
        return bool(_SNIFF.match(body[:1024]))
    return False


def absolute_url(base: str, origin: tuple[str, str] | None, src: str) -> str:
    """``urljoin(base, src)``; a plain root-relative or scheme-relative ``src`` is joined without parsing.

    ``origin`` is the base's (scheme, netloc) when it is http(s). urljoin parses and re-assembles every
    URL (about 15 µs, thousands per crawl file); a "/path?query" or "//host/path" made of plain URL
    characters needs only the origin in front. Anything urljoin would rewrite or refuse (dot segments,
    empty queries, fragments, params, brackets, whitespace) goes through urljoin.
    """
    if origin is not None and "/." not in src:
        if _ROOT_RELATIVE.fullmatch(src):
            return f"{origin[0]}://{origin[1]}{src}"
        if _SCHEME_RELATIVE.fullmatch(src):
            return f"{origin[0]}:{src}"
    return urljoin(base, src)


def extract_images(tree: LexborHTMLParser, page_url: str) -> tuple[list[ImageRef], int]:
    """Every <img> with an absolute URL, alt text and DOM position; also the count skipped (data: URIs, no
    URL, or one URL parsing refuses, such as a host "[x" that is no IPv6 address)."""
    base = page_url
    base_node = tree.css_first("base[href]")
    try:
        if base_node is not None:
            base = urljoin(page_url, (base_node.attributes.get("href") or "").strip())
        parts = urlsplit(base) if base else None
    except ValueError:  # a hostile <base href>: the page's own URL stands
        base, parts = page_url, None
    origin = (
        (parts.scheme, parts.netloc) if parts and parts.scheme in ("http", "https") and parts.netloc else None
    )
    images: list[ImageRef] = []
    skipped = 0
    root = tree.root
    if root is None:
        return images, skipped
    for position, node in enumerate(root.traverse(include_text=False)):
        if node.tag != "img":
            continue
        attrs = node.attributes
        src = next((attrs[a].strip() for a in _LAZY_SRC if attrs.get(a)), "")
        if not src or src.startswith("data:"):
            skipped += 1
            continue
        try:
            url = (
                src
                if src.startswith(("http://", "https://")) or not base
                else absolute_url(base, origin, src)
            )
        except ValueError:
            skipped += 1
            continue
        images.append(ImageRef(url=url, alt=(attrs.get("alt") or "").strip(), dom_index=position))
    return images, skipped


def text_segments(html: str, main_content: bool) -> list[str]:
    """The page's (main) text as non-empty paragraphs in reading order."""
    text = extract_plain_text(
        html, main_content=main_content, preserve_formatting=True, alt_texts=False, list_bullets=False
    )
    lines = [line.strip() for line in text.replace(ZWSP, "").split("\n") if line.strip()]
    return drop_notice_lines(drop_link_lines(lines)) if main_content else strip_link_marks(lines)


@register
class ExtractHtml(MapStep):
    """Decode HTML (charset-robust), extract main text segments and <img> src/alt/DOM position."""

    name = "extract_html"
    Params = ExtractHtmlParams

    def apply(self, record: Record) -> Record | Drop:
        if not isinstance(record, Document) or record.raw is None:
            return Drop("no_payload")
        p = self.params
        status = record.metadata.get("http_status")
        if status is not None and not p.min_status <= status <= p.max_status:
            return Drop(f"http_status:{status}")
        if not record.raw.strip():
            return Drop("empty_body")
        if not looks_like_html(record.raw_content_type, record.raw):
            return Drop(f"not_html:{record.raw_content_type or 'unknown'}")
        if b"\x00" in record.raw[:2048] and not record.raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return Drop("binary_body")  # NULs never occur in HTML outside UTF-16 (which has a BOM)
        html, encoding = decode_html(record.raw, record.metadata.get("charset_declared"))
        tree = LexborHTMLParser(html)
        title_node = tree.css_first("title")
        record.metadata["encoding"] = encoding
        record.metadata["title"] = title_node.text(strip=True) if title_node is not None else ""
        record.images, skipped = extract_images(tree, record.url)
        if skipped:
            record.metadata["images_without_url"] = skipped
        changed = p.image_positions
        if p.image_positions:
            mark_images(tree, record.images)
        changed |= drop_icon_ligatures(tree)  # before text: an icon's name is not the page's words
        if p.main_content:
            changed |= prune(tree)
        if changed:  # serialised once, after every repair (each serialisation costs a walk of the page)
            html = tree.html or ""
        if "<ruby" in html or "<RUBY" in html:
            html = _RUBY.sub("", html)
        if p.main_content:
            html = mark_links(html)
        record.texts = text_segments(pad_lone_characters(html), p.main_content)
        if p.image_positions:
            record.texts = place_images(record.texts, record.images)
        if not p.keep_raw:
            record.raw = None
        if not record.texts:
            return Drop("no_text")
        return record

"""Build a demo crawl: real saved web pages plus image responses serving real photos under the pages' URLs.

The pages in examples/data link to images on their sites, which cannot be fetched here. This script
writes WARC files holding each page and, for every <img> URL on it, a response record whose body is
one of the bundled photos (chosen by a hash of the URL, so the output is byte-for-byte reproducible).
The photo behind an alt text is therefore NOT the original image: the pairs test the pipeline, not
the alt texts' truth.

    python examples/build_crawl.py --pages examples/data/ja-pages examples/data/html/*.jp.* \
        examples/data/html/readability__hukumusume__source.html --out examples/data/ja-crawl
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import re

from selectolax.lexbor import LexborHTMLParser

from polyvlm.io.charset import decode_html
from polyvlm.io.html_extract import extract_images
from polyvlm.io.warc_writer import response_record, write_warc

_CANONICAL = re.compile(r'<link[^>]+rel="canonical"[^>]+href="([^"]+)"', re.I)
_OG_URL = re.compile(r"<meta[^>]+og:url[^>]*>", re.I)
_URL_ATTR = re.compile(r'(?:content|value)="(https?://[^"]+)"', re.I)
_HOST = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


def page_url(path: str, html: str) -> str:
    """The page's own URL: its canonical link, its og:url, or one made from the file name."""
    m = _CANONICAL.search(html)
    if m:
        return m.group(1)
    og = _OG_URL.search(html)
    if og and (u := _URL_ATTR.search(og.group(0))):
        return u.group(1)
    stem = os.path.basename(path).rsplit(".html", 1)[0].split("__", 1)[-1]
    return f"https://{stem}/" if _HOST.match(stem) else f"https://example.invalid/{stem}/"


def photo_type(data: bytes) -> str:
    """The Content-Type a server would send for these bytes (by magic number, not by file name)."""
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    return "application/octet-stream"


def build(pages: list[str], photos: list[str], out_dir: str, parts: int) -> list[str]:
    """Write `parts` WARC files into out_dir; returns their paths."""
    photo_bytes = [open(p, "rb").read() for p in photos]
    records: list[list[bytes]] = [[] for _ in range(parts)]
    served: set[str] = set()
    for i, path in enumerate(pages):
        raw = open(path, "rb").read()
        html, _ = decode_html(raw, None)
        url = page_url(path, html)
        part = records[i % parts]
        part.append(response_record(url, raw, "text/html; charset=utf-8"))
        images, _ = extract_images(LexborHTMLParser(html), url)
        for image in images:
            if image.url in served:
                continue
            served.add(image.url)
            k = int(hashlib.sha1(image.url.encode()).hexdigest()[:8], 16) % len(photo_bytes)
            body = photo_bytes[k]
            part.append(response_record(image.url, body, photo_type(body)))
    os.makedirs(out_dir, exist_ok=True)
    name = os.path.basename(os.path.normpath(out_dir))
    paths = []
    for n, recs in enumerate(records):
        path = os.path.join(out_dir, f"{name}-{n}.warc.gz")
        write_warc(path, recs)
        paths.append(path)
    return paths


def main() -> None:
    """Command line: pages, photos, output directory, number of WARC files."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", nargs="+", required=True, help="saved .html pages, or directories of them")
    ap.add_argument("--photos", default="examples/data/photos", help="directory of photos to serve")
    ap.add_argument("--out", required=True, help="output directory (WARCs are named after it)")
    ap.add_argument("--parts", type=int, default=2, help="number of WARC files (shards)")
    a = ap.parse_args()
    pages = sorted(
        p for d in a.pages for p in (glob.glob(os.path.join(d, "*.html")) if os.path.isdir(d) else [d])
    )
    photos = sorted(glob.glob(os.path.join(a.photos, "*")))
    if not pages or not photos:
        raise SystemExit(f"no pages ({len(pages)}) or no photos ({len(photos)}) found")
    for path in build(pages, photos, a.out, a.parts):
        print(f"wrote {path} ({os.path.getsize(path):,} bytes)")


if __name__ == "__main__":
    main()

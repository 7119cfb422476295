"""Build small WARC files for tests: real WARC/1.0 framing, per-record gzip, arbitrary payloads."""

from __future__ import annotations

import gzip
import uuid


def response_record(url: str, body: bytes, content_type: str = "text/html", status: int = 200,
                    extra_headers: str = "") -> bytes:  # fmt: skip
    """One WARC response record (uncompressed bytes)."""
    http = (f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n{extra_headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body  # fmt: skip
    rid = uuid.uuid5(uuid.NAMESPACE_URL, url + str(len(body)))
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
            f"WARC-Record-ID: <urn:uuid:{rid}>\r\nContent-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {len(http)}\r\n\r\n").encode()  # fmt: skip
    return head + http + b"\r\n\r\n"


def write_warc(path: str, records: list[bytes], compress: bool = True) -> None:
    """Write records; compressed files get one gzip member per record, as crawlers write them."""
    with open(path, "wb") as f:
        for rec in records:
            f.write(gzip.compress(rec, mtime=0) if compress else rec)


def page(title: str, body: str, charset_meta: str | None = None) -> str:
    """A small HTML page, optionally declaring a charset in <meta>."""
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    return (f"<!doctype html><html><head>{meta}<title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{body}</p><img src=\"/img/a.jpg\" alt=\"{title}の写真\"></article></body></html>")  # fmt: skip

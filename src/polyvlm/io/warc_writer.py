"""Write WARC/1.0 response records (per-record gzip, as crawlers write them): demo crawls and tests."""

from __future__ import annotations

import gzip
import uuid


def response_record(url: str, body: bytes, content_type: str = "text/html", status: int = 200,
                    extra_headers: str = "", date: str = "2024-01-01T00:00:00Z") -> bytes:  # fmt: skip
    """One WARC response record (uncompressed bytes) holding an HTTP/1.1 response."""
    http = (f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n{extra_headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body  # fmt: skip
    rid = uuid.uuid5(uuid.NAMESPACE_URL, url + str(len(body)))  # deterministic: same input, same bytes
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\nWARC-Date: {date}\r\n"
            f"WARC-Record-ID: <urn:uuid:{rid}>\r\nContent-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {len(http)}\r\n\r\n").encode()  # fmt: skip
    return head + http + b"\r\n\r\n"


def write_warc(path: str, records: list[bytes], compress: bool = True) -> None:
    """Write records; compressed files get one gzip member per record (mtime 0: reproducible bytes)."""
    with open(path, "wb") as f:
        for rec in records:
            f.write(gzip.compress(rec, mtime=0) if compress else rec)

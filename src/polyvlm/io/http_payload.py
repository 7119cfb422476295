"""Split an HTTP response block into status, headers and decoded body, tolerating crawler quirks."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field


@dataclass(slots=True)
class HttpPayload:
    """A parsed HTTP response: status code, lower-cased headers, body, notes on repairs made."""

    status: int | None
    headers: dict[str, str]
    body: bytes
    notes: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        """The MIME type without parameters, lower-cased ('' when absent)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type, if any."""
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset":
                return value.strip().strip("\"'") or None
        return None


def dechunk(body: bytes) -> bytes:
    """Undo HTTP chunked transfer coding; raises ValueError on a malformed stream."""
    # ours, not fastwarc's ChunkedReader: fastwarc 2.0.1 refuses a valid chunk extension ("5;name=value",
    # which RFC 9112 7.1.1 says to ignore), so such a body would keep its framing; speed is a draw
    # (benchmarks/http_dechunk.py, docs/BENCHMARKS.md)
    out = bytearray()
    pos = 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise ValueError("chunk size line not terminated")
        size = int(body[pos:eol].split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return bytes(out)
        start = eol + 2
        if start + size > len(body):
            raise ValueError("chunk runs past the end of the record")
        out += body[start : start + size]
        pos = start + size + 2


def _decompress(body: bytes, coding: str) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return gzip.decompress(body)
    if coding == "deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)
    if coding == "br":
        import brotli  # optional: only pages served with brotli need it

        return brotli.decompress(body)
    raise ValueError(f"unsupported content coding {coding!r}")


def parse_http_response(block: bytes) -> HttpPayload:
    """Parse a WARC response block; raises ValueError when it holds no HTTP response at all."""
    # the header block ends at the first blank line, CRLF or (in old crawls) bare LF
    ends = [(i, n) for i, n in ((block.find(b"\r\n\r\n"), 4), (block.find(b"\n\n"), 2)) if i >= 0]
    end, sep = min(ends) if ends else (-1, 0)
    if end < 0 or not block.startswith(b"HTTP/"):
        raise ValueError("no HTTP status line and header block")
    lines = block[:end].decode("latin-1").replace("\r\n", "\n").split("\n")
    parts = lines[0].split(None, 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, colon, value = line.partition(":")
        if colon:
            headers[key.strip().lower()] = value.strip()
    body = block[end + sep :]
    notes: list[str] = []
    if "chunked" in headers.get("transfer-encoding", "").lower():
        try:
            body = dechunk(body)
        except ValueError:
            notes.append("chunked_header_but_plain_body")  # crawlers often store the de-chunked body
    coding = headers.get("content-encoding", "").strip().lower()
    if coding and coding != "identity":
        try:
            body = _decompress(body, coding)
        except Exception:  # noqa: BLE001 — a lying header is common; keep the bytes as stored
            notes.append(f"{coding}_header_but_plain_body")
    return HttpPayload(status, headers, body, notes)

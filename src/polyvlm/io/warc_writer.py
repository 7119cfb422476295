"""Write WARC/1.0 response records with warcio (per-record gzip, as crawlers write them): demo crawls and tests."""

from __future__ import annotations

import gzip
import io
import uuid

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def response_record(url: str, body: bytes, content_type: str = "text/html", status: int = 200,
                    extra_headers: str = "", date: str = "2024-01-01T00:00:00Z") -> bytes:  # fmt: skip
    """One WARC response record (uncompressed bytes) holding an HTTP/1.1 response.

    extra_headers: raw "Name: value\\r\\n" lines, sent between Content-Type and Content-Length.
    """
    extra = [line.partition(":") for line in extra_headers.split("\r\n") if line.strip()]
    headers = [("Content-Type", content_type), *((k.strip(), v.strip()) for k, _, v in extra)]
    # the body as stored, whatever it holds (chunks, gzip): Content-Length is its length, as before
    http = StatusAndHeaders(f"{status} X", [*headers, ("Content-Length", str(len(body)))], "HTTP/1.1")
    rid = uuid.uuid5(uuid.NAMESPACE_URL, url + str(len(body)))  # deterministic: same input, same bytes
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False, warc_version="1.0")
    record = writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
        warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": f"<urn:uuid:{rid}>"},
    )  # fmt: skip
    writer.write_record(record)
    return out.getvalue()


def write_warc(path: str, records: list[bytes], compress: bool = True) -> None:
    """Write records; compressed files get one gzip member per record (mtime 0: reproducible bytes)."""
    with open(path, "wb") as f:
        for rec in records:
            f.write(gzip.compress(rec, mtime=0) if compress else rec)

"""Build small WARC files for tests: real WARC/1.0 framing, per-record gzip, arbitrary payloads."""

from __future__ import annotations

from polyvlm.io.warc_writer import response_record, write_warc  # noqa: F401  (re-exported for tests)


def page(title: str, body: str, charset_meta: str | None = None) -> str:
    """A small HTML page, optionally declaring a charset in <meta>."""
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    return (f"<!doctype html><html><head>{meta}<title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{body}</p><img src=\"/img/a.jpg\" alt=\"{title}の写真\"></article></body></html>")  # fmt: skip

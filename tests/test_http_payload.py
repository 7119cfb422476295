"""HTTP blocks inside WARC records: chunking, compression and the lies crawls tell about them."""

import gzip
import zlib

import pytest

from polyvlm.io.http_payload import dechunk, parse_http_response

BODY = "<html><body><p>本文です。</p></body></html>".encode()


def _block(headers: str, body: bytes, eol: str = "\r\n") -> bytes:
    head = eol.join(["HTTP/1.1 200 OK", *headers.split("|")]) if headers else "HTTP/1.1 200 OK"
    return (head + eol + eol).encode("latin-1") + body


def test_chunked_and_gzipped_body_is_restored():
    gz = gzip.compress(BODY)
    chunked = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, gz[:10], len(gz) - 10, gz[10:])
    http = parse_http_response(
        _block(
            "Transfer-Encoding: chunked|Content-Encoding: gzip|Content-Type: text/html; charset=UTF-8",
            chunked,
        )
    )
    assert http.body == BODY and not http.notes
    assert http.content_type == "text/html" and http.charset == "UTF-8" and http.status == 200


@pytest.mark.parametrize("coding, data", [("deflate", zlib.compress(BODY)), ("gzip", gzip.compress(BODY))])
def test_content_codings(coding, data):
    assert parse_http_response(_block(f"Content-Encoding: {coding}", data)).body == BODY


def test_lying_headers_keep_the_stored_bytes_and_say_so():
    http = parse_http_response(_block("Content-Encoding: gzip|Transfer-Encoding: chunked", BODY))
    assert http.body == BODY
    assert set(http.notes) == {"gzip_header_but_plain_body", "chunked_header_but_plain_body"}


def test_bare_lf_header_block_ends_at_the_first_blank_line():
    body = b"<html>\r\n\r\n<p>after a blank CRLF line inside the body</p>"
    http = parse_http_response(_block("Content-Type: text/html", body, eol="\n"))
    assert http.body == body


def test_not_http_is_an_error():
    with pytest.raises(ValueError):
        parse_http_response(b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(ValueError):
        dechunk(b"zz\r\nabc")


def test_chunk_extensions_are_ignored():
    # RFC 9112 7.1.1: a recipient ignores chunk extensions (fastwarc's ChunkedReader refuses them)
    assert dechunk(b"5;name=value\r\nhello\r\n6;x\r\n world\r\n0\r\n\r\n") == b"hello world"

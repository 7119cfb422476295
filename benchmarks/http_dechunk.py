"""HTTP de-chunking of WARC payloads: polyvlm.io.http_payload.dechunk vs fastwarc's ChunkedReader.

What each answers on the chunked streams crawls hold (valid ones, one with a chunk extension, one without
its last chunk, plain bodies under a lying header, cut ones), then calls/s on random bodies of several
sizes and chunk sizes. The answers decide (issue 27): ours stays while the library refuses a valid stream.

Run: .venv/bin/python benchmarks/http_dechunk.py [--seconds 0.5]
"""

from __future__ import annotations

import argparse
import io
import os
import time
from collections.abc import Callable
from importlib.metadata import version

from fastwarc.stream_io import ChunkedReader

from polyvlm.io.http_payload import dechunk

CASES = {
    "two chunks": b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    "chunk extension (RFC 9112 7.1.1)": b"5;name=value\r\nhello\r\n0\r\n\r\n",
    "upper-case hex size": b"A\r\n0123456789\r\n0\r\n\r\n",
    "no last chunk": b"5\r\nhello\r\n",
    "empty body": b"",
    "plain body, lying header": "<html><body><p>本文です。</p></body></html>".encode(),
    "bad size line": b"zz\r\nabc",
    "cut inside a chunk": b"a\r\nhello",
}


def by_fastwarc(data: bytes) -> bytes:
    """De-chunk with fastwarc's ChunkedReader; its OSError becomes our ValueError."""
    reader = ChunkedReader(io.BytesIO(data))
    parts = []
    try:
        while block := reader.read(65536):
            parts.append(block)
    except OSError as e:
        raise ValueError(str(e)) from e
    return b"".join(parts)


def chunked(body: bytes, size: int) -> bytes:
    """The body in chunks of `size` bytes, with the last chunk."""
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def answer(fn: Callable[[bytes], bytes], data: bytes) -> str:
    """What fn gives for the stream, for a table."""
    try:
        return repr(fn(data))[:40]
    except ValueError as e:
        return f"ValueError: {e}"[:40]


def main() -> None:
    """Print both answers per case, then calls/s per body size and chunk size."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=0.5, help="timing per measurement")
    args = ap.parse_args()
    decoders = {"polyvlm": dechunk, f"fastwarc {version('fastwarc')}": by_fastwarc}
    for name, data in CASES.items():
        print(f"{name:34s}", " | ".join(f"{k}: {answer(fn, data):40s}" for k, fn in decoders.items()))
    print()
    for total, size in ((20_000, 20_000), (100_000, 8192), (1_000_000, 4096), (1_000_000, 256)):
        body = os.urandom(total)
        data = chunked(body, size)
        rates = []
        for fn in decoders.values():
            assert fn(data) == body
            calls, start = 0, time.perf_counter()
            while time.perf_counter() - start < args.seconds:
                fn(data)
                calls += 1
            rates.append(calls / (time.perf_counter() - start))
        print(
            f"{total:>9,} B in {size:>6,} B chunks: "
            + ", ".join(f"{k} {r:,.0f}/s" for k, r in zip(decoders, rates, strict=True))
        )


if __name__ == "__main__":
    main()

"""read_warc: stream the response records of a WARC file (.warc or .warc.gz) as Documents."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

from fastwarc.warc import ArchiveIterator, WarcRecordType

from polyvlm.core.records import Document, Provenance, Record
from polyvlm.core.step import Params, ReadIssue, ReadStep, register
from polyvlm.io.http_payload import parse_http_response


class ReadWarcParams(Params):
    """Parameters of read_warc."""

    license: str = ""
    """licence recorded in every document's provenance"""
    max_record_bytes: int = 50_000_000
    """larger records are skipped with a reason, never loaded"""
    skip_content_types: list[str] = []
    """responses whose HTTP Content-Type starts with one of these are counted as skipped (e.g. image/)"""


def record_key(source: str, record_id: str, offset: int | None) -> str:
    """A stable document id: the WARC-Record-ID's hash, or the file name and offset's."""
    basis = record_id or f"{os.path.basename(source)}:{offset}"
    return hashlib.sha1(basis.encode()).hexdigest()[:20]


@register
class ReadWarc(ReadStep):
    """Read WARC response records as Documents holding the raw HTTP body; other record types are counted."""

    name = "read_warc"
    Params = ReadWarcParams
    extensions = (".warc", ".warc.gz")

    def read(self, path: str) -> Iterator[Record | ReadIssue]:
        if os.path.getsize(path) == 0:
            yield ReadIssue("error", "empty_file", path)
            return
        with open(path, "rb") as stream:
            it = ArchiveIterator(stream, parse_http=False, quirks_mode=True, strict_mode=False)
            offset = None
            try:
                for rec in it:
                    offset = rec.stream_pos
                    yield from self._record(path, rec)
            except Exception as e:  # noqa: BLE001 — a corrupt archive ends this file, not the run
                yield ReadIssue("error", "corrupt_archive", f"{type(e).__name__}: {e}", offset)

    def _record(self, path: str, rec) -> Iterator[Record | ReadIssue]:
        offset = rec.stream_pos
        rtype = rec.record_type
        if rtype != WarcRecordType.response:
            yield ReadIssue("skipped", f"warc_type:{rtype}", offset=offset)
            rec.consume()
            return
        if rec.content_length > self.params.max_record_bytes:
            yield ReadIssue("error", "record_too_large", f"{rec.content_length} bytes", offset)
            rec.consume()
            return
        block = rec.reader.read()
        record_id = (rec.record_id or "").strip("<>")
        url = (rec.headers.get("WARC-Target-URI") or "").strip().strip("<>")
        if len(block) < rec.content_length:
            yield ReadIssue(
                "error", "truncated_record", f"{url}: {len(block)} of {rec.content_length} bytes", offset
            )
            return
        try:
            http = parse_http_response(block)
        except ValueError as e:
            yield ReadIssue("error", "bad_http_block", f"{url}: {e}", offset)
            return
        if any(http.content_type.startswith(t) for t in self.params.skip_content_types):
            yield ReadIssue("skipped", f"content_type:{http.content_type}", offset=offset)
            return
        metadata = {"http_status": http.status, "charset_declared": http.charset}
        if http.notes:
            metadata["repairs"] = http.notes
        yield Document(
            id=record_key(path, record_id, offset),
            url=url,
            metadata=metadata,
            provenance=Provenance(
                source=path,
                license=self.params.license,
                offset=offset,
                record_id=record_id,
                crawl_date=rec.headers.get("WARC-Date") or "",
            ),
            raw=http.body,
            raw_content_type=http.content_type,
        )

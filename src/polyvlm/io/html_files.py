"""read_html: local .html files as Documents (one page per file)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

from polyvlm.core.records import Document, Provenance, Record
from polyvlm.core.step import Params, ReadIssue, ReadStep, register


class ReadHtmlParams(Params):
    """Parameters of read_html."""

    license: str = ""
    """licence recorded in every document's provenance"""
    base_url: str = ""
    """pages get url = base_url + file name (for resolving relative <img src>)"""


@register
class ReadHtml(ReadStep):
    """Read a saved web page (.html/.htm) as one Document with its raw bytes; charset is detected later."""

    name = "read_html"
    Params = ReadHtmlParams
    extensions = (".html", ".htm")

    def read(self, path: str) -> Iterator[Record | ReadIssue]:
        with open(path, "rb") as f:
            body = f.read()
        if not body:
            yield ReadIssue("error", "empty_file", path)
            return
        name = os.path.basename(path)
        yield Document(
            id=hashlib.sha1(path.encode()).hexdigest()[:20],
            url=self.params.base_url + name if self.params.base_url else "",
            metadata={"charset_declared": None},
            provenance=Provenance(source=path, license=self.params.license),
            raw=body,
            raw_content_type="text/html",
        )

"""Images held in WARC files: an index url -> (file, record offset) of image responses, and seek-reads."""

from __future__ import annotations

import fcntl
import glob
import os
import sqlite3
from collections.abc import Iterable

from fastwarc.warc import ArchiveIterator, WarcRecordType

from polyvlm.image.url_rules import url_extension
from polyvlm.io.http_payload import parse_http_response

HEAD_BYTES = 16_384  # enough of a record's block for the HTTP status line and headers
_SCHEMA = """
CREATE TABLE IF NOT EXISTS warc_files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, exts TEXT);
CREATE TABLE IF NOT EXISTS warc_images (url TEXT, path TEXT, offset INTEGER, PRIMARY KEY (url, path));
"""


def expand_globs(patterns: Iterable[str]) -> list[str]:
    """The files the globs match (sorted, absolute); raises ValueError naming a glob that matches nothing."""
    paths: set[str] = set()
    for pattern in patterns:
        found = [p for p in glob.glob(os.path.expanduser(pattern), recursive=True) if os.path.isfile(p)]
        if not found:
            raise ValueError(f"warc_images: {pattern!r} matches no file")
        paths.update(os.path.abspath(p) for p in found)
    return sorted(paths)


def _target(rec) -> str:
    return (rec.headers.get("WARC-Target-URI") or "").strip().strip("<>")


def _head_is_image(head: bytes, url: str, extensions: set[str]) -> bool:
    """A 200 response whose Content-Type is image/*, or whose URL has an image extension."""
    try:
        http = parse_http_response(head)  # only the head: a cut body is kept as is, with a note
    except ValueError:
        return False
    return http.status == 200 and (http.content_type.startswith("image/") or url_extension(url) in extensions)


def normalise_extensions(extensions: Iterable[str]) -> list[str]:
    """Lower-case extensions with their dot, sorted: ['.jpg', '.png']."""
    return sorted({e.lower() if e.startswith(".") else "." + e.lower() for e in extensions})


def scan_warc(path: str, extensions: Iterable[str]) -> list[tuple[str, int]]:
    """(url, offset) of every image response record in one WARC file."""
    exts = set(normalise_extensions(extensions))
    found = []
    with open(path, "rb") as stream:
        it = ArchiveIterator(
            stream, record_types=WarcRecordType.response, parse_http=False, strict_mode=False
        )
        try:
            for rec in it:
                url = _target(rec)
                if url and _head_is_image(rec.reader.read(HEAD_BYTES), url, exts):
                    found.append((url, rec.stream_pos))
        except Exception:  # noqa: BLE001 — a corrupt tail ends this file's scan; what came before stays
            pass
    return found


def read_image(path: str, offset: int, url: str) -> bytes | None:
    """The HTTP payload (de-chunked, decompressed) of the response record at offset, if it is url's."""
    with open(path, "rb") as stream:
        stream.seek(offset)
        for rec in ArchiveIterator(stream, parse_http=False, strict_mode=False):
            if _target(rec) != url:
                return None  # an index from another version of the file: never serve the wrong image
            try:
                payload = parse_http_response(rec.reader.read())
            except ValueError:
                return None
            return payload.body if payload.status == 200 else None
    return None


class WarcImageStore:
    """Looks up and reads images of a set of WARC files; the index lives in SQLite, built once and shared."""

    def __init__(self, patterns: list[str], index_path: str = ":memory:", extensions: Iterable[str] = ()):
        self.paths = expand_globs(patterns)
        self.index_path = index_path
        self.extensions = normalise_extensions(extensions)
        self._conn: sqlite3.Connection | None = None
        self._pid = -1

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            if self.index_path == ":memory:":
                self._conn = self._open()
            else:  # one process opens (WAL switch) and builds while the others wait, then they reuse it
                os.makedirs(os.path.dirname(self.index_path) or ".", exist_ok=True)
                with open(self.index_path + ".lock", "a") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX)
                    self._conn = self._open()
            self._pid = os.getpid()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.index_path, timeout=60, isolation_level=None)
        if self.index_path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)
        self._index_files(conn)
        return conn

    def _index_files(self, conn: sqlite3.Connection) -> None:
        exts = ",".join(self.extensions)
        known = {r[0]: r[1:] for r in conn.execute("SELECT path, size, mtime_ns, exts FROM warc_files")}
        for path in self.paths:
            st = os.stat(path)
            if known.get(path) == (st.st_size, st.st_mtime_ns, exts):
                continue
            found = scan_warc(path, self.extensions)
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("DELETE FROM warc_images WHERE path = ?", (path,))
                rows = [(u, path, o) for u, o in found]
                conn.executemany("INSERT OR IGNORE INTO warc_images VALUES (?, ?, ?)", rows)
                row = (path, st.st_size, st.st_mtime_ns, exts)
                conn.execute("INSERT OR REPLACE INTO warc_files VALUES (?, ?, ?, ?)", row)

    def locate(self, urls: Iterable[str]) -> dict[str, tuple[str, int]]:
        """(file, offset) of those URLs held by the store's WARC files (first file in path order wins)."""
        conn = self._connect()
        urls = list(dict.fromkeys(urls))
        places: dict[str, tuple[str, int]] = {}
        wanted = set(self.paths)
        for i in range(0, len(urls), 500):
            chunk = urls[i : i + 500]
            sql = f"SELECT url, path, offset FROM warc_images WHERE url IN ({','.join('?' * len(chunk))})"
            for url, path, offset in sorted(conn.execute(sql, chunk)):
                if path in wanted and url not in places:
                    places[url] = (path, offset)
        return places

    def fetch(self, urls: Iterable[str]) -> dict[str, bytes]:
        """The image bytes the WARC files hold for those URLs."""
        out = {}
        for url, (path, offset) in self.locate(urls).items():
            try:
                data = read_image(path, offset, url)
            except Exception:  # noqa: BLE001 — a file gone or damaged since indexing: the other sources try
                data = None
            if data is not None:
                out[url] = data
        return out

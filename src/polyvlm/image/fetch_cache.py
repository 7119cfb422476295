"""Content-addressed cache of fetched images: bytes by sha256 on disk, and a URL index in SQLite (WAL)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass

INDEX_NAME = "index.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY,
    sha256 TEXT,          -- NULL for a failure
    size INTEGER,
    noai INTEGER NOT NULL DEFAULT 0,  -- served with X-Robots-Tag noai/noimageai
    reason TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    policy TEXT NOT NULL DEFAULT '',  -- the settings a failure was judged under
    fetched_at REAL NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """What the index knows of a URL: its bytes' hash and size, or a failure and the settings it met."""

    url: str
    sha256: str | None
    size: int | None
    noai: bool
    reason: str
    detail: str
    policy: str


@dataclass(frozen=True, slots=True)
class CacheWrite:
    """One URL's outcome to record: bytes (data) or a failure (reason, detail)."""

    url: str
    data: bytes | None = None
    noai: bool = False
    reason: str = ""
    detail: str = ""
    policy: str = ""
    sha256: str = ""  # of data, when the caller has it already


def blob_path(root: str, sha256: str) -> str:
    """Where the bytes of a hash live: <root>/ab/abcdef..."""
    return os.path.join(root, sha256[:2], sha256)


class FetchCache:
    """The cache in one directory; safe to share between processes (atomic files, SQLite WAL)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._dirs: set[str] = set()  # fan-out directories known to exist (saves a mkdir per blob)

    @property
    def conn(self) -> sqlite3.Connection:
        """This process's connection (a connection must never cross a fork)."""
        if self._conn is None or self._pid != os.getpid():
            os.makedirs(self.root, exist_ok=True)
            path = os.path.join(self.root, INDEX_NAME)
            # switching a new database to WAL fails at once (no busy wait) when another process does the
            # same: the first connection of each process is made under a file lock
            with open(path + ".lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                conn = sqlite3.connect(path, timeout=60, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_SCHEMA)
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable enough for a cache, much faster
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def lookup(self, urls: Iterable[str]) -> dict[str, CacheEntry]:
        """The index entries of those URLs that have one."""
        urls = list(dict.fromkeys(urls))
        found: dict[str, CacheEntry] = {}
        for i in range(0, len(urls), 500):  # SQLite caps the number of bound parameters
            chunk = urls[i : i + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT url, sha256, size, noai, reason, detail, policy FROM urls WHERE url IN ({marks})"
            for row in self.conn.execute(sql, chunk):
                found[row[0]] = CacheEntry(row[0], row[1], row[2], bool(row[3]), row[4], row[5], row[6])
        return found

    def read(self, sha256: str) -> bytes | None:
        """The bytes of a hash, or None when the blob is missing or does not match its name."""
        try:
            with open(blob_path(self.root, sha256), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        return data if hashlib.sha256(data).hexdigest() == sha256 else None

    def put_blob(self, data: bytes, sha256: str | None = None) -> str:
        """Store bytes under their hash (temp file + rename, so readers never see half a file); returns it."""
        sha256 = sha256 or hashlib.sha256(data).hexdigest()
        path = blob_path(self.root, sha256)
        if os.path.exists(path):
            return sha256
        folder = os.path.dirname(path)
        if folder not in self._dirs:
            os.makedirs(folder, exist_ok=True)
            self._dirs.add(folder)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{sha256[:12]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)  # two processes writing the same hash write the same bytes: last one wins
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return sha256

    def record(self, writes: Iterable[CacheWrite]) -> None:
        """Store outcomes: blobs first, then the index rows in one transaction (no row without its blob)."""
        rows = []
        now = time.time()
        for w in writes:
            if w.data is not None:
                sha = self.put_blob(w.data, w.sha256 or None)
                rows.append((w.url, sha, len(w.data), int(w.noai), "", "", "", now))
            else:
                rows.append((w.url, None, None, 0, w.reason, w.detail, w.policy, now))
        if rows:
            with self.conn:
                self.conn.execute("BEGIN IMMEDIATE")
                self.conn.executemany("INSERT OR REPLACE INTO urls VALUES (?,?,?,?,?,?,?,?)", rows)

    def close(self) -> None:
        """Close this process's connection."""
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

"""The persistent response cache: an answer paid for once is never paid for again (SQLite, WAL).

The key is the sha256 of canonical JSON of (backend, model name, messages, merged parameters, seed), with
every `data:` URL in the messages replaced by the sha256 of its bytes — so the same image sent twice
hits, and the key does not depend on the endpoint's address (the same model behind another URL hits).
Only successful answers are stored; several processes may read and write one file at once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import fcntl
import hashlib
import json
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from threading import Lock
from typing import Any
from urllib.parse import unquote_to_bytes

from polyvlm.clients.chat import ChatRequest, ChatResult, ChatSpec

_INHERITED: list[sqlite3.Connection] = []  # a forked child's copies of its parent's connections, never closed
_SCHEMA = """CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    finish_reason TEXT NOT NULL,
    model TEXT NOT NULL,
    created REAL NOT NULL
)"""


def data_url_digest(url: str) -> str:
    """`sha256:<hex>` of the bytes a data: URL carries (base64 or percent-encoded)."""
    header, _, payload = url.partition(",")
    if header.endswith(";base64"):
        try:
            raw = base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError):
            raw = payload.encode()  # not decodable: still a stable key
    else:
        raw = unquote_to_bytes(payload)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _strip_data_urls(value: Any) -> Any:
    if isinstance(value, str):
        return data_url_digest(value) if value.startswith("data:") else value
    if isinstance(value, dict):
        return {k: _strip_data_urls(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strip_data_urls(v) for v in value]
    return value


def merged_params(spec: ChatSpec, request: ChatRequest) -> tuple[dict[str, Any], int]:
    """The sampling parameters sent (spec.sampling overridden by the request's) and the seed."""
    params = {**spec.sampling, **request.params}
    seed = params.pop("seed", spec.seed)
    return params, int(seed)


def cache_key(spec: ChatSpec, request: ChatRequest) -> str:
    """The request's cache key: what decides the answer, and nothing else."""
    params, seed = merged_params(spec, request)
    payload = {
        "backend": spec.backend,
        "model": spec.model,
        "messages": _strip_data_urls(request.messages),
        "params": params,
        "seed": seed,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ResponseCache:
    """Answers by key in one SQLite file; a connection per process (never across a fork)."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(os.path.expanduser(path))
        self._pid = -1
        self._fresh_process()

    def _fresh_process(self) -> None:
        # after a fork nothing of the parent's is usable here: its connection, its writer thread, a lock
        # its threads may have held, answers it has yet to commit (the parent commits those)
        if self._pid == os.getpid():
            return
        if getattr(self, "_conn", None) is not None:
            _INHERITED.append(self._conn)  # closing the parent's connection here is what SQLite forbids
        self._conn: sqlite3.Connection | None = None
        self._lock = Lock()  # the async backend writes from its writer thread, steps read from theirs
        self._pending: list[tuple[Any, ...]] = []  # answers added, not yet committed
        self._pending_lock = Lock()
        self._flush_scheduled = False
        self._executor: ThreadPoolExecutor | None = None
        self._pid = os.getpid()

    @property
    def conn(self) -> sqlite3.Connection:
        """This process's connection (call with `_lock` held)."""
        if self._conn is None:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            # switching a new database to WAL fails at once (no busy wait) when another process does the
            # same: the first connection of each process is made under a file lock
            with open(self.path + ".lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_SCHEMA)
            # WAL + NORMAL survives a killed process (only a power cut can lose the last answers)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn
        return self._conn

    def get_many(self, keys: list[str]) -> dict[str, ChatResult]:
        """The cached answers among those keys, marked `cached=True`."""
        self._fresh_process()
        unique = list(dict.fromkeys(keys))
        found: dict[str, ChatResult] = {}
        with self._lock:
            conn = self.conn
            for i in range(0, len(unique), 500):  # SQLite caps the number of bound parameters
                chunk = unique[i : i + 500]
                sql = (
                    "SELECT key, text, prompt_tokens, completion_tokens, finish_reason FROM responses "
                    f"WHERE key IN ({','.join('?' * len(chunk))})"
                )
                for key, text, pt, ct, finish in conn.execute(sql, chunk):
                    found[key] = ChatResult(
                        text, prompt_tokens=pt, completion_tokens=ct, cached=True, finish_reason=finish
                    )
        return found

    def put(self, key: str, model: str, result: ChatResult) -> None:
        """Store a successful answer now (the first stored answer of a key wins; failures are never stored)."""
        self.add(key, model, result)
        self.flush()

    def add(self, key: str, model: str, result: ChatResult) -> None:
        """Store a successful answer: at once, or from an event loop on the cache's writer thread.

        A commit costs 0.1-0.6 ms, which on the loop's thread would hold up every request in flight;
        the writer commits what has arrived meanwhile in one transaction (sqlite3 releases the GIL
        while it writes), so an answer waits at most one commit before it is on disk.
        """
        if result.text is None:
            return
        self._fresh_process()
        row = (key, result.text, result.prompt_tokens, result.completion_tokens, result.finish_reason, model)
        with self._pending_lock:
            self._pending.append((*row, time.time()))
            start = not self._flush_scheduled
            self._flush_scheduled = True
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if start:
            self._writer().submit(self.flush)

    def _writer(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="response-cache")
        return self._executor

    def flush(self) -> None:
        """Commit the answers added and not yet stored (waits for a commit the writer has begun)."""
        self._fresh_process()
        with self._lock:
            with self._pending_lock:
                rows, self._pending = self._pending, []
                self._flush_scheduled = False
            if rows:
                conn = self.conn
                conn.execute("BEGIN")
                conn.executemany("INSERT OR IGNORE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                conn.execute("COMMIT")

    def __len__(self) -> int:
        self._fresh_process()
        with self._lock:
            return int(self.conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

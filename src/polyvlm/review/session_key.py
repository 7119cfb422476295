"""The project's session key: 32 random bytes in `PROJECT/session.key` (mode 0600), never in the database.

It keys the hashes under which sessions are stored and signs device cookies, so a copy of the database
alone opens no session. `polyvlm review rotate-secret` writes a new key and deletes every session; a
running server notices the new file on its next request (one stat call) and uses it from then on.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading

from polyvlm.review.private_files import write_private

KEY_NAME = "session.key"
KEY_BYTES = 32


def key_path(project: str) -> str:
    """Where a project's session key lives."""
    return os.path.join(project, KEY_NAME)


def write_new_key(project: str) -> None:
    """Replace the project's key with a fresh random one (atomically, mode 0600)."""
    write_private(key_path(project), secrets.token_bytes(KEY_BYTES))


def rotate_secret(project: str, conn: sqlite3.Connection) -> int:
    """A new key and no sessions: every cookie and device cookie made before is void; how many sessions ended."""
    write_new_key(project)
    ended = conn.execute("DELETE FROM sessions").rowcount
    conn.execute("DELETE FROM meta WHERE key = 'session_secret'")  # where projects before 0600 kept it
    return ended


class SessionKey:
    """The key as the server uses it, re-read when the file changes (rotation without a restart)."""

    def __init__(self, project: str) -> None:
        self.path = key_path(project)
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._key = b""
        if not os.path.exists(self.path):  # a project made before the key left the database
            write_new_key(project)

    def current(self) -> bytes:
        """The key in the file now."""
        st = os.stat(self.path)
        stamp = (st.st_ino, st.st_mtime_ns)  # rotation renames a new file in: a new inode
        with self._lock:
            if stamp != self._seen:
                with open(self.path, "rb") as f:
                    key = f.read()
                if len(key) < KEY_BYTES:
                    raise RuntimeError(f"{self.path} is shorter than {KEY_BYTES} bytes; run rotate-secret")
                self._key, self._seen = key, stamp
            return self._key

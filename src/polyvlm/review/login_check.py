"""Checking a login's token with the same work whatever the name: an unknown name is checked against a
dummy hash with the same scrypt cost, so the answer's time does not tell which names exist."""

from __future__ import annotations

import functools
import sqlite3

from polyvlm.review.store import get_meta
from polyvlm.review.tokens import hash_token, new_token, token_matches

MAX_TOKEN = 256  # characters hashed: a real token has 43; a pasted file costs no more than a token


@functools.cache
def dummy_hash() -> str:
    """A hash of a random token no one holds, made once per process with the real tokens' cost."""
    return hash_token(new_token())


def annotator_token_ok(conn: sqlite3.Connection, name: str, token: str) -> bool:
    """Whether `token` is `name`'s; exactly one scrypt call whether or not the name exists."""
    row = conn.execute("SELECT token_hash FROM annotators WHERE name = ?", (name,)).fetchone()
    stored = row["token_hash"] if row is not None else dummy_hash()
    matches = token_matches(token[:MAX_TOKEN], stored)
    return matches and row is not None


def admin_token_ok(conn: sqlite3.Connection, token: str) -> bool:
    """Whether `token` is the project's admin token (one scrypt call)."""
    return token_matches(token[:MAX_TOKEN], get_meta(conn, "admin_token_hash"))

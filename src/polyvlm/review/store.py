"""The project's SQLite store in WAL mode: items, assignments, versioned submissions and edits, adjudications.

Every annotator action is one transaction committed before the page answers, with `synchronous=FULL` so a
killed server (or a power cut) loses nothing that was acknowledged. Submissions are never updated: each
submit appends a version, and the latest version of an assignment is its current state.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

from polyvlm.review.private_files import tighten, touch_private

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS annotators (name TEXT PRIMARY KEY, token_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  id INTEGER PRIMARY KEY, item_key TEXT NOT NULL UNIQUE, record TEXT NOT NULL, language TEXT NOT NULL,
  generator TEXT NOT NULL, task TEXT NOT NULL, images TEXT NOT NULL, overlap INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS assignments (
  id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES items(id),
  annotator TEXT NOT NULL REFERENCES annotators(name), position INTEGER NOT NULL,
  UNIQUE (item_id, annotator), UNIQUE (annotator, position));
CREATE TABLE IF NOT EXISTS submissions (
  id INTEGER PRIMARY KEY, assignment_id INTEGER NOT NULL REFERENCES assignments(id),
  nonce TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, ratings TEXT NOT NULL, messages TEXT NOT NULL,
  comment TEXT NOT NULL, submitted_at TEXT NOT NULL, UNIQUE (assignment_id, version));
CREATE TABLE IF NOT EXISTS edits (
  id INTEGER PRIMARY KEY, submission_id INTEGER NOT NULL REFERENCES submissions(id),
  annotator TEXT NOT NULL, turn INTEGER NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL,
  at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS adjudications (
  id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES items(id), nonce TEXT NOT NULL UNIQUE,
  ratings TEXT NOT NULL, messages TEXT NOT NULL, note TEXT NOT NULL, at TEXT NOT NULL);
"""
# server-side sessions: the cookie carries a random id, the table only its keyed hash (web_sessions.py)
SESSIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
  key TEXT PRIMARY KEY, data TEXT NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires);
"""

DB_NAME = "review.sqlite"


def db_path(project: str) -> str:
    """Where a project's database lives."""
    return os.path.join(project, DB_NAME)


def connect(project: str, create: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode with full fsync on commit; `create` makes a new project's tables."""
    path = db_path(project)
    if not create and not os.path.exists(path):
        raise FileNotFoundError(
            f"{project} is not a review project (no {DB_NAME}); run `polyvlm review init`"
        )
    if create:
        touch_private(path)  # made 0600 before SQLite opens it: its WAL and SHM copy the database's mode
    else:  # a project made before modes were set: its files become private on the next open
        tighten([project, path, path + "-wal", path + "-shm"])
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # an acknowledged submit survives a power cut, not only a kill
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    if create:
        conn.executescript(SCHEMA + SESSIONS_SCHEMA)
    return conn


def get_meta(conn: sqlite3.Connection, key: str) -> Any:
    """A project setting (JSON)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        raise KeyError(f"project setting {key!r} is missing")
    return json.loads(row["value"])


def set_meta(conn: sqlite3.Connection, key: str, value: Any) -> None:
    """Store a project setting (JSON)."""
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))


def latest_submissions(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """The current (latest) submission of every assignment that has one, with its item and annotator."""
    return conn.execute(
        """SELECT s.*, a.annotator, a.item_id FROM submissions s JOIN assignments a ON a.id = s.assignment_id
           WHERE s.version = (SELECT MAX(version) FROM submissions WHERE assignment_id = s.assignment_id)
           ORDER BY a.item_id, a.annotator"""
    ).fetchall()


def latest_adjudications(conn: sqlite3.Connection) -> dict[int, sqlite3.Row]:
    """The latest adjudication of each adjudicated item."""
    rows = conn.execute("SELECT * FROM adjudications ORDER BY id").fetchall()
    return {r["item_id"]: r for r in rows}

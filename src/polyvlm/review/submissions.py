"""Submitting a review: validate the ratings, append a version, record each edited turn (who, when, before/after).

One transaction per submit. The form carries a nonce made when the page was rendered, UNIQUE in the table:
a resent form (double click, retry after a dropped connection) is acknowledged without a second row. It also
carries the version it was made from (`base_version`, 0 before any submit): when the assignment has moved on
since (another tab submitted), the submit is refused with a `Conflict` holding both texts, so an older page
never silently reverts a newer edit. The adjudication form does the same with `base_adjudication`.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from polyvlm.core.records import record_from_json
from polyvlm.review.config import ReviewConfig
from polyvlm.review.dataset_readers import turns_of

MAX_TEXT = 100_000  # characters of one turn or comment: a pasted file is refused, not stored


@dataclass(slots=True)
class Submitted:
    """The outcome of a submit: the version written (or found, for a resent nonce) and the turns edited."""

    version: int
    edited: int
    duplicate: bool = False


class Conflict(Exception):
    """A form made from an older version than the stored one: nothing was written."""

    def __init__(self, current: int, saved: list[str], sent: list[str]) -> None:
        super().__init__(f"this page was made from an older version; version {current} was saved since")
        self.current, self.saved, self.sent = current, saved, sent


def base_of(form: dict[str, str], field: str) -> int:
    """The version a form was made from (ValueError when the form does not say)."""
    raw = form.get(field, "")
    if not raw.isdigit():
        raise ValueError("the form does not say which version it was made from; reload the page")
    return int(raw)


def now() -> str:
    """UTC time as ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def parse_ratings(config: ReviewConfig, form: dict[str, str]) -> dict[str, Any]:
    """The ratings of a form, every field required and checked against its scale (ValueError otherwise)."""
    return {f.name: f.parse(form.get(f.name)) for f in config.fields}


def edited_turns(form: dict[str, str], n_turns: int) -> list[str | None]:
    """The form's text of each turn (turn_0 ...), None where the form did not send it."""
    out = []
    for k in range(n_turns):
        text = form.get(f"turn_{k}")
        if text is not None:
            text = text.replace("\r\n", "\n")  # browsers send textarea newlines as CRLF
            if len(text) > MAX_TEXT:
                raise ValueError(f"turn {k + 1} is longer than {MAX_TEXT} characters")
        out.append(text)
    return out


def current_turns(conn: sqlite3.Connection, assignment_id: int, item_id: int) -> list[str]:
    """An assignment's turns as last submitted, else as generated."""
    row = conn.execute(
        "SELECT messages FROM submissions WHERE assignment_id = ? ORDER BY version DESC LIMIT 1",
        (assignment_id,),
    ).fetchone()
    if row is not None:
        return json.loads(row["messages"])
    rec = conn.execute("SELECT record FROM items WHERE id = ?", (item_id,)).fetchone()
    return [text for _, text in turns_of(record_from_json(rec["record"]))]


def submit(
    conn: sqlite3.Connection, config: ReviewConfig, assignment: sqlite3.Row, form: dict[str, str]
) -> Submitted:
    """Write one submitted review of `assignment` (a row with id, item_id, annotator)."""
    nonce = form.get("nonce", "")
    if not 16 <= len(nonce) <= 64:
        raise ValueError("the form has no valid nonce; reload the page")
    ratings = parse_ratings(config, form)
    base = base_of(form, "base_version")
    comment = form.get("comment", "").replace("\r\n", "\n")
    if len(comment) > MAX_TEXT:
        raise ValueError(f"the comment is longer than {MAX_TEXT} characters")
    conn.execute("BEGIN IMMEDIATE")
    try:
        seen = conn.execute(
            "SELECT version, assignment_id FROM submissions WHERE nonce = ?", (nonce,)
        ).fetchone()
        if seen is not None:
            conn.execute("ROLLBACK")
            if seen["assignment_id"] != assignment["id"]:
                raise ValueError("this form was already used for another item; reload the page")
            return Submitted(seen["version"], 0, duplicate=True)
        before = current_turns(conn, assignment["id"], assignment["item_id"])
        sent = edited_turns(form, len(before))
        after = [b if s is None else s for b, s in zip(before, sent, strict=True)]
        stored = conn.execute(
            "SELECT COALESCE(MAX(version), 0) FROM submissions WHERE assignment_id = ?", (assignment["id"],)
        ).fetchone()[0]
        if base != stored:
            raise Conflict(stored, before, after)
        version = stored + 1
        at = now()
        cur = conn.execute(
            "INSERT INTO submissions (assignment_id, nonce, version, ratings, messages, comment, submitted_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (assignment["id"], nonce, version, json.dumps(ratings), json.dumps(after, ensure_ascii=False),
             comment, at),
        )  # fmt: skip
        changed = [(k, b, a) for k, (b, a) in enumerate(zip(before, after, strict=True)) if a != b]
        conn.executemany(
            "INSERT INTO edits (submission_id, annotator, turn, before, after, at) VALUES (?, ?, ?, ?, ?, ?)",
            [(cur.lastrowid, assignment["annotator"], k, b, a, at) for k, b, a in changed],
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return Submitted(version, len(changed))


def adjudicate(
    conn: sqlite3.Connection, config: ReviewConfig, item_id: int, form: dict[str, str], n_turns: int
) -> None:
    """Record the admin's final word on an item (ratings, turns, a note); a resent form is a no-op."""
    nonce = form.get("nonce", "")
    if not 16 <= len(nonce) <= 64:
        raise ValueError("the form has no valid nonce; reload the page")
    ratings = parse_ratings(config, form)
    base = base_of(form, "base_adjudication")
    turns = edited_turns(form, n_turns)
    if any(t is None for t in turns):
        raise ValueError("the adjudication form must carry every turn")
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("SELECT 1 FROM adjudications WHERE nonce = ?", (nonce,)).fetchone() is None:
            latest = conn.execute(
                "SELECT id, messages FROM adjudications WHERE item_id = ? ORDER BY id DESC LIMIT 1",
                (item_id,),
            ).fetchone()
            if (0 if latest is None else latest["id"]) != base:
                raise Conflict(latest["id"] if latest else 0, json.loads(latest["messages"]) if latest else [],
                               [t or "" for t in turns])  # fmt: skip
            conn.execute(
                "INSERT INTO adjudications (item_id, nonce, ratings, messages, note, at) VALUES (?, ?, ?, ?, ?, ?)",
                (item_id, nonce, json.dumps(ratings), json.dumps(turns, ensure_ascii=False),
                 form.get("note", "")[:MAX_TEXT], now()),
            )  # fmt: skip
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise

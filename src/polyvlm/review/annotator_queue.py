"""An annotator's work list: their assignments in order, what is submitted, where to go next."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from polyvlm.core.records import record_from_json
from polyvlm.review.dataset_readers import turns_of
from polyvlm.review.source_view import source_panels


def progress(conn: sqlite3.Connection, annotator: str) -> dict[str, int]:
    """How many items the annotator has and how many they submitted (per item, whatever its versions)."""
    # counted over assignments, not over a join with submissions: a re-submitted item is one row, not two
    row = conn.execute(
        """SELECT COUNT(*) AS total,
                  COALESCE(SUM(EXISTS (SELECT 1 FROM submissions s WHERE s.assignment_id = a.id)), 0) AS done
           FROM assignments a WHERE a.annotator = ?""",
        (annotator,),
    ).fetchone()
    return {"total": row["total"], "done": row["done"]}


def next_position(conn: sqlite3.Connection, annotator: str) -> int | None:
    """The first of the annotator's items without a submission, None when all are done."""
    row = conn.execute(
        """SELECT MIN(a.position) FROM assignments a WHERE a.annotator = ?
           AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.assignment_id = a.id)""",
        (annotator,),
    ).fetchone()
    return row[0]


def assignment_at(conn: sqlite3.Connection, annotator: str, position: int) -> sqlite3.Row | None:
    """The annotator's assignment at `position` (1-based), None when there is none."""
    return conn.execute(
        "SELECT * FROM assignments WHERE annotator = ? AND position = ?", (annotator, position)
    ).fetchone()


def item_view(conn: sqlite3.Connection, item_id: int, assignment_id: int | None) -> dict[str, Any]:
    """What the item page shows: images, sources, turns (the annotator's own last version if any), and the
    version the page's form is made from (`base_version`, 0 before any submit)."""
    item = conn.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
    record = record_from_json(item["record"])
    turns = turns_of(record)
    own = None
    if assignment_id is not None:
        own = conn.execute(
            "SELECT * FROM submissions WHERE assignment_id = ? ORDER BY version DESC LIMIT 1",
            (assignment_id,),
        ).fetchone()
    texts = json.loads(own["messages"]) if own is not None else [t for _, t in turns]
    return {
        "item": item,
        "images": json.loads(item["images"]),
        "sources": source_panels(record),
        "turns": [{"role": role, "text": text} for (role, _), text in zip(turns, texts, strict=True)],
        "base_version": own["version"] if own is not None else 0,
        "own": {"ratings": json.loads(own["ratings"]), "comment": own["comment"], "version": own["version"]}
        if own is not None
        else None,
    }

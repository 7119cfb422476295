"""`polyvlm review export`: the refined dataset, each kept record with its review provenance.

An item's final state is decided by the rules of merge.py (adjudication; else agreement on the decision
and, for an accepted item, on the turns: an edit is kept only when every annotator's turns say the same);
export_stats.json counts how many items each rule decided, and they add up to the project's items.
Accepted records go to reviewed.parquet and reviewed.jsonl (read_parquet / read_jsonl read them in a
recipe), rejected ones to rejected.jsonl with their reviews.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter, defaultdict
from typing import Any

import pyarrow.parquet as pq

from polyvlm.core.records import (
    Message,
    Pair,
    Record,
    Sample,
    record_from_json,
    record_to_json,
    records_to_table,
)
from polyvlm.review.config import ReviewConfig
from polyvlm.review.dataset_readers import turns_of
from polyvlm.review.merge import EXPORTED, LEFT_OUT, decide
from polyvlm.review.store import get_meta, latest_adjudications, latest_submissions


def apply_turns(record: Record, turns: list[str]) -> None:
    """Write reviewed turn texts back into the record."""
    if isinstance(record, Sample):
        record.messages = [Message(m.role, t) for m, t in zip(record.messages, turns, strict=True)]
    elif isinstance(record, Pair):
        record.text = turns[0]
    else:
        record.texts = list(turns)


def _edits(conn: sqlite3.Connection, item_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        """SELECT e.annotator, e.turn, e.before, e.after, e.at, s.version FROM edits e
           JOIN submissions s ON s.id = e.submission_id JOIN assignments a ON a.id = s.assignment_id
           WHERE a.item_id = ? ORDER BY e.id""",
        (item_id,),
    )
    return [dict(r) for r in rows]


def final_states(conn: sqlite3.Connection, config: ReviewConfig) -> tuple[list[tuple[str, Record]], Counter]:
    """(decision, record with review provenance) of every exported item, and how many items each rule decided."""
    subs: dict[int, list[sqlite3.Row]] = defaultdict(list)
    for s in latest_submissions(conn):
        subs[s["item_id"]].append(s)
    adjudicated = latest_adjudications(conn)
    counts: Counter[str] = Counter()
    out = []
    for item in conn.execute("SELECT id, item_key, record FROM items ORDER BY id"):
        reviews = sorted(subs.get(item["id"], []), key=lambda s: s["submitted_at"])
        adj = adjudicated.get(item["id"])
        record = record_from_json(item["record"])
        original = [text for _, text in turns_of(record)]
        outcome = decide(config, original, reviews, adj)
        counts[outcome.rule] += 1
        if not outcome.exported:
            continue
        apply_turns(record, outcome.turns)
        record.metadata["review"] = {
            "project_item": item["item_key"],
            "decision": outcome.decision,
            "ratings": outcome.ratings,
            "decided_by": outcome.rule,
            "edited": outcome.turns != original,
            "adjudicated": adj is not None,
            "adjudication_note": adj["note"] if adj is not None else "",
            "reviews": [
                {
                    "annotator": s["annotator"],
                    "version": s["version"],
                    "ratings": json.loads(s["ratings"]),
                    "comment": s["comment"],
                    "at": s["submitted_at"],
                }
                for s in reviews
            ],  # fmt: skip
            "edits": _edits(conn, item["id"]),
        }
        out.append((outcome.decision, record))
    return out, counts


def _atomic_write(path: str, text: str) -> None:
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def export_project(conn: sqlite3.Connection, out_dir: str) -> dict[str, Any]:
    """Write the refined dataset to `out_dir`; the counts (they add up to the project's items)."""
    config = ReviewConfig.model_validate(get_meta(conn, "config"))
    keep = config.field(config.decision_field).choices[0]
    states, counts = final_states(conn, config)
    accepted = [r for d, r in states if d == keep]
    rejected = [r for d, r in states if d != keep]
    os.makedirs(out_dir, exist_ok=True)
    _atomic_write(
        os.path.join(out_dir, "reviewed.jsonl"), "".join(record_to_json(r) + "\n" for r in accepted)
    )
    _atomic_write(
        os.path.join(out_dir, "rejected.jsonl"), "".join(record_to_json(r) + "\n" for r in rejected)
    )
    if accepted:
        tmp = os.path.join(out_dir, "reviewed.parquet.tmp")
        pq.write_table(records_to_table(accepted), tmp)
        os.replace(tmp, os.path.join(out_dir, "reviewed.parquet"))
    stats = {
        "items": conn.execute("SELECT COUNT(*) FROM items").fetchone()[0],
        "accepted": len(accepted),
        "rejected": len(rejected),
        **{rule: counts[rule] for rule in LEFT_OUT},
        "edited_records": sum(1 for _, r in states if r.metadata["review"]["edited"]),
        "adjudicated": counts["adjudicated"],
        "decided_by": {rule: counts[rule] for rule in (*EXPORTED, *LEFT_OUT)},
    }
    _atomic_write(os.path.join(out_dir, "export_stats.json"), json.dumps(stats, indent=2) + "\n")
    return stats

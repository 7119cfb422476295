"""Which items need adjudication: reviewed by several annotators who differ on a choice, by 2+ on a scale, or
on the text (different edits, or an edit and the original: merge.py leaves such an item out until adjudicated)."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict

from polyvlm.review.config import ReviewConfig
from polyvlm.review.merge import turns_differ
from polyvlm.review.store import latest_submissions


def disagreeing_items(conn: sqlite3.Connection, config: ReviewConfig) -> dict[int, list[str]]:
    """Item id -> what annotators disagree on (nominal: any difference; ordinal: a spread of 2 or more; "text")."""
    latest: dict[int, list[sqlite3.Row]] = defaultdict(list)
    for s in latest_submissions(conn):
        latest[s["item_id"]].append(s)
    keep = config.field(config.decision_field).choices[0]
    out = {}
    for item, subs in latest.items():
        if len(subs) < 2:
            continue
        rs = [json.loads(s["ratings"]) for s in subs]
        # the text matters where someone would keep the item; a rejected item's wording is moot
        accepted = any(r[config.decision_field] == keep for r in rs)
        fields = ["text"] if accepted and turns_differ(subs) else []
        for f in config.fields:
            values = [r[f.name] for r in rs if f.name in r]
            spread = len(set(values)) > 1 if f.kind == "nominal" else max(values) - min(values) >= 2
            if values and spread:
                fields.append(f.name)
        if fields:
            out[item] = fields
    return out

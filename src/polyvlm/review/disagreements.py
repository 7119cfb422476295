"""Which items need adjudication: reviewed by several annotators who differ on a choice or by 2+ on a scale."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict

from polyvlm.review.config import ReviewConfig
from polyvlm.review.store import latest_submissions


def disagreeing_items(conn: sqlite3.Connection, config: ReviewConfig) -> dict[int, list[str]]:
    """Item id -> the fields annotators disagree on (nominal: any difference; ordinal: a spread of 2 or more)."""
    ratings: dict[int, list[dict]] = defaultdict(list)
    for s in latest_submissions(conn):
        ratings[s["item_id"]].append(json.loads(s["ratings"]))
    out = {}
    for item, rs in ratings.items():
        if len(rs) < 2:
            continue
        fields = []
        for f in config.fields:
            values = [r[f.name] for r in rs if f.name in r]
            spread = len(set(values)) > 1 if f.kind == "nominal" else max(values) - min(values) >= 2
            if values and spread:
                fields.append(f.name)
        if fields:
            out[item] = fields
    return out

"""The counters of one (phase, shard) unit: every row's fate added to the funnel of the steps it reached."""

from __future__ import annotations

from typing import Any

from polyvlm.engine.rows import ERROR, OK, REJECTED, SKIPPED, Row


def new_shard_stats(step_labels: list[str], reader_label: str | None) -> dict[str, Any]:
    """Empty counters for one (phase, shard) unit."""
    stats: dict[str, Any] = {
        "steps": {label: {"in": 0, "out": 0, "dropped": {}, "errors": 0} for label in step_labels},
        "kept": 0,
        "rejected": 0,
        "errors": 0,
        "created": 0,
        "written": {},
    }
    if reader_label is not None:
        stats["read"] = {"reader": reader_label, "records": 0, "skipped": {}, "rejected": {}, "errors": {}}
    return stats


def count_row(stats: dict[str, Any], row: Row, step_labels: list[str]) -> None:
    """Add one row's fate to the counters: each step it reached saw it come in, and maybe go out."""
    read = stats.get("read")
    if read is not None and row.step == read["reader"] and row.status in (SKIPPED, ERROR, REJECTED):
        bucket = {SKIPPED: read["skipped"], ERROR: read["errors"], REJECTED: read["rejected"]}[row.status]
        bucket[row.reason] = bucket.get(row.reason, 0) + 1
        if row.status == ERROR:
            stats["errors"] += 1
        elif row.status == REJECTED:  # a record the reader read and refused (a PDF page): in, and rejected
            read["records"] += 1
            stats["rejected"] += 1
        return
    # a row an expand step of this phase made (beyond a record's first child) enters the funnel there
    made_at = row.origin if row.origin in stats["steps"] else ""
    if made_at:
        stats["created"] += 1
    elif read is not None:
        read["records"] += 1
    for label in step_labels:
        counters = stats["steps"][label]
        if made_at:
            if label == made_at:
                made_at = ""
                counters["out"] += 1
            continue
        counters["in"] += 1
        if row.status != OK and row.step == label:
            if row.status == REJECTED:
                counters["dropped"][row.reason] = counters["dropped"].get(row.reason, 0) + 1
            else:
                counters["errors"] += 1
            break
        counters["out"] += 1
    if row.status == OK:
        stats["kept"] += 1
    elif row.status == REJECTED:
        stats["rejected"] += 1
    elif row.status == ERROR:
        stats["errors"] += 1

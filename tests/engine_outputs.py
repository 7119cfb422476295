"""Read back what a run wrote, for comparing runs."""

from __future__ import annotations

import glob
import json
import os

import pyarrow.parquet as pq

from polyvlm.core.records import table_to_records


def parquet_records(out: str, sub: str = "documents") -> list[dict]:
    """Every record of a run's Parquet output, in file order, as plain dicts."""
    files = sorted(glob.glob(os.path.join(out, sub, "*.parquet")))
    return [r.to_dict() for f in files for r in table_to_records(pq.read_table(f))]


def side_files(out: str, sub: str) -> dict[str, list[dict]]:
    """rejects/ (or _errors/) file by file."""
    res = {}
    for f in sorted(glob.glob(os.path.join(out, sub, "*.jsonl"))):
        with open(f, encoding="utf-8") as fh:
            res[os.path.basename(f)] = [json.loads(x) for x in fh]
    return res


def funnel(out: str) -> dict:
    """The parts of stats.json that must not depend on the engine or on interruptions."""
    with open(os.path.join(out, "stats.json"), encoding="utf-8") as f:
        s = json.load(f)
    return {k: s[k] for k in ("read", "steps", "written", "totals", "balanced", "files")}

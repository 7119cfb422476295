"""Where the rows of one shard end: outputs (or the spill for the next phase), rejects/, errors, stats."""

from __future__ import annotations

import json
import os
from typing import Any

from polyvlm.core.records import Document, Pair, Sample
from polyvlm.core.step import WriteStep
from polyvlm.engine.atomic import TMP_SUFFIX
from polyvlm.engine.rows import ERROR, OK, REJECTED, SKIPPED, Row
from polyvlm.report.pair_profile import PairProfile
from polyvlm.report.sample_profile import SampleProfile


def shard_name(shard: int) -> str:
    """File-name stem of a shard's outputs."""
    return f"s{shard:05d}"


def _record_summary(row: Row) -> dict[str, Any]:
    rec = row.record
    out: dict[str, Any] = {"shard": row.shard, "idx": row.idx, "step": row.step, "reason": row.reason}
    if row.sub:
        out["sub"] = row.sub
    if row.detail:
        out["detail"] = row.detail
    if rec is not None:
        d = rec.to_dict()
        d.pop("raw", None)  # payloads are not repeated in rejects; provenance says where to find them
        for im in d.get("images", []) + ([d["image"]] if "image" in d else []):
            im.pop("data", None)
        out["record"] = d
    return out


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
        stats["read"] = {"reader": reader_label, "records": 0, "skipped": {}, "errors": {}}
    return stats


def count_row(stats: dict[str, Any], row: Row, step_labels: list[str]) -> None:
    """Add one row's fate to the counters: each step it reached saw it come in, and maybe go out."""
    read = stats.get("read")
    if read is not None and row.step == read["reader"] and row.status in (SKIPPED, ERROR):
        bucket = read["skipped"] if row.status == SKIPPED else read["errors"]
        bucket[row.reason] = bucket.get(row.reason, 0) + 1
        if row.status == ERROR:
            stats["errors"] += 1
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


class ShardSink:
    """Consumes the rows of one (phase, shard): routes each and counts it. Nothing leaves uncounted."""

    def __init__(
        self,
        out_dir: str,
        phase: int,
        shard: int,
        step_labels: list[str],
        reader_label: str | None,
        writers: list[WriteStep] | None,
        shard_size: int,
        samples: int = 3,
    ) -> None:
        self.out_dir = out_dir
        self.name = f"p{phase}-{shard_name(shard)}"
        self.step_labels = step_labels
        self.stats = new_shard_stats(step_labels, reader_label)
        self.stats["samples"] = []
        self._samples = samples
        self._writers = [(w, w.open(out_dir, shard_name(shard), shard_size)) for w in writers or []]
        self._last = writers is not None  # kept rows of earlier phases are not final: profile them at the end
        self._profile: PairProfile | None = None
        self._samples_profile: SampleProfile | None = None
        # streamed to temporary files so a shard with millions of rejects stays in bounded memory
        self._side = {}
        for kind in ("rejects", "_errors"):
            final = os.path.join(out_dir, kind, f"{self.name}.jsonl")
            os.makedirs(os.path.dirname(final), exist_ok=True)
            self._side[kind] = (open(final + TMP_SUFFIX, "w", encoding="utf-8"), final)

    def add(self, row: Row) -> None:
        """Route one row."""
        count_row(self.stats, row, self.step_labels)
        if isinstance(row.record, Pair) and row.status in (OK, REJECTED) and (self._last or row.status != OK):
            self._profile = self._profile or PairProfile()
            self._profile.add(row.record, row.status == OK, row.step, row.reason)
        elif (
            isinstance(row.record, Sample)
            and row.status in (OK, REJECTED)
            and (self._last or row.status != OK)
        ):
            self._samples_profile = self._samples_profile or SampleProfile()
            self._samples_profile.add(row.record, row.status == OK, row.step, row.reason)
        if row.status == OK:
            for writer, handle in self._writers:
                handle.write(row.record)  # type: ignore[arg-type]
                self.stats["written"][writer.label] = self.stats["written"].get(writer.label, 0) + 1
            if len(self.stats["samples"]) < self._samples and isinstance(row.record, Document):
                self.stats["samples"].append(
                    {"id": row.record.id, "url": row.record.url, "language": row.record.language,
                     "title": row.record.metadata.get("title", ""), "text": row.record.text[:400],
                     "images": len(row.record.images)}
                )  # fmt: skip
        elif row.status == REJECTED:
            self._side["rejects"][0].write(json.dumps(_record_summary(row), ensure_ascii=False) + "\n")
        elif row.status == ERROR:
            self._side["_errors"][0].write(json.dumps(_record_summary(row), ensure_ascii=False) + "\n")

    def commit(self) -> dict[str, Any]:
        """Publish outputs, rejects and errors of this unit atomically; returns its stats."""
        for _, handle in self._writers:
            handle.commit()
        for f, final in self._side.values():
            f.close()
            os.replace(f.name, final)
        if self._profile is not None:
            self.stats["pairs"] = self._profile.to_dict()
        if self._samples_profile is not None:
            self.stats["conversations"] = self._samples_profile.to_dict()
        return self.stats

    def abort(self) -> None:
        """Drop partial outputs."""
        for _, handle in self._writers:
            handle.abort()
        for f, _ in self._side.values():
            f.close()
            os.remove(f.name)

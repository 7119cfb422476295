"""Where the rows of one shard end: outputs (or the spill for the next phase), rejects/, errors, stats."""

from __future__ import annotations

import json
import os
from typing import Any

from polyvlm.core.profiles import Profile, profile_kind
from polyvlm.core.records import Document
from polyvlm.core.step import WriteStep
from polyvlm.engine.rows import ERROR, OK, REJECTED, Row
from polyvlm.engine.run_dir import shard_name, unit_stem
from polyvlm.engine.unit_counts import count_row, new_shard_stats
from polyvlm.io.atomic import TMP_SUFFIX


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
        self.name = unit_stem(phase, shard)
        self.step_labels = step_labels
        self.stats = new_shard_stats(step_labels, reader_label)
        self.stats["samples"] = []
        self._samples = samples
        self._writers = [(w, w.open(out_dir, shard_name(shard), shard_size)) for w in writers or []]
        self._last = writers is not None  # kept rows of earlier phases are not final: profile them at the end
        self._profiles: dict[str, Profile] = {}  # by the profile kind's stats key
        # streamed to temporary files so a shard with millions of rejects stays in bounded memory
        self._side = {}
        for kind in ("rejects", "_errors"):
            final = os.path.join(out_dir, kind, f"{self.name}.jsonl")
            os.makedirs(os.path.dirname(final), exist_ok=True)
            self._side[kind] = (open(final + TMP_SUFFIX, "w", encoding="utf-8"), final)

    def add(self, row: Row) -> None:
        """Route one row."""
        count_row(self.stats, row, self.step_labels)
        if row.status in (OK, REJECTED) and (self._last or row.status != OK):
            self._profile(row)
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

    def _profile(self, row: Row) -> None:
        kind = profile_kind(row.record)
        if kind is not None:
            profile = self._profiles.get(kind.key)
            if profile is None:
                profile = self._profiles[kind.key] = kind.new()
            profile.add(row.record, row.status == OK, row.step, row.reason)

    def commit(self) -> dict[str, Any]:
        """Publish outputs, rejects and errors of this unit atomically; returns its stats."""
        for _, handle in self._writers:
            handle.commit()
        for f, final in self._side.values():
            f.close()
            os.replace(f.name, final)
        for key, profile in self._profiles.items():
            self.stats[key] = profile.to_dict()
        return self.stats

    def abort(self) -> None:
        """Drop partial outputs."""
        for _, handle in self._writers:
            handle.abort()
        for f, _ in self._side.values():
            f.close()
            os.remove(f.name)

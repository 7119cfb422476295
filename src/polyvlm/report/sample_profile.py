"""What a dataset card shows of a conversation corpus: counts per generator, language, task and category, and samples."""

from __future__ import annotations

from typing import Any

from polyvlm.core.profiles import ProfileKind, register_profile
from polyvlm.core.records import Sample
from polyvlm.report.pair_profile import thumbnail
from polyvlm.synth.categories import category_of

KEPT_PER_SHARD = 6
DROPPED_PER_REASON = 2


def sample_image_bytes(sample: Sample) -> bytes | None:
    """The first image's bytes: held in the record, or read from its path (None when neither works)."""
    if not sample.images:
        return None
    image = sample.images[0]
    if image.data is not None:
        return image.data
    if image.path:
        try:
            with open(image.path, "rb") as f:
                return f.read()
        except OSError:
            return None
    return None


CER_BIN = 0.05


def cer_bin(cer: float) -> str:
    """The lower edge of the histogram bin of a character error rate (bins of 0.05; 1.0 and above in one)."""
    return f"{min(int(cer / CER_BIN + 1e-9), int(1 / CER_BIN)) * CER_BIN:.2f}"


class SampleProfile:
    """Accumulates one shard's counts and gallery entries; `merge_sample_profiles` joins shards."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}  # "generator|language|task" -> kept samples
        self.licenses: dict[str, int] = {}  # "source licence|generator licence" -> kept samples
        self.turns = 0
        self.kept: list[dict[str, Any]] = []
        self.dropped: dict[str, list[dict[str, Any]]] = {}
        self.ocr_cer: dict[str, int] = {}  # "kept|0.05" -> samples whose OCR read-back CER falls in that bin
        self.categories: dict[str, int] = {}  # Jagle's category (synth/categories.py) -> kept samples

    def add(self, sample: Sample, kept: bool, step: str = "", reason: str = "") -> None:
        """Count a kept sample; keep a few kept and dropped samples for the gallery."""
        ocr = sample.metadata.get("ocr")
        if isinstance(ocr, dict) and isinstance(ocr.get("cer"), int | float):
            key = f"{'kept' if kept else 'dropped'}|{cer_bin(float(ocr['cer']))}"
            self.ocr_cer[key] = self.ocr_cer.get(key, 0) + 1
        if kept:
            key = f"{sample.provenance.generator or '-'}|{sample.language or '-'}|{sample.task or '-'}"
            self.counts[key] = self.counts.get(key, 0) + 1
            category = category_of(sample) or "-"
            self.categories[category] = self.categories.get(category, 0) + 1
            lic = f"{sample.provenance.license or '-'}|{sample.metadata.get('generator_license') or '-'}"
            self.licenses[lic] = self.licenses.get(lic, 0) + 1
            self.turns += len(sample.messages)
            if len(self.kept) < KEPT_PER_SHARD:
                self.kept.append(self._entry(sample, step, reason))
            return
        bucket = self.dropped.setdefault(f"{step}: {reason}", [])
        if len(bucket) < DROPPED_PER_REASON:
            bucket.append(self._entry(sample, step, reason))

    @staticmethod
    def _entry(sample: Sample, step: str, reason: str) -> dict[str, Any]:
        return {"id": sample.id, "task": sample.task, "language": sample.language,
                "generator": sample.provenance.generator, "license": sample.provenance.license,
                "messages": [[m.role, m.content[:600]] for m in sample.messages[:8]],
                "step": step, "reason": reason, "thumb": thumbnail(sample_image_bytes(sample))}  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The JSON form kept in a unit's stats."""
        return {"counts": self.counts, "licenses": self.licenses, "turns": self.turns, "kept": self.kept,
                "dropped": self.dropped, "ocr_cer": self.ocr_cer, "categories": self.categories}  # fmt: skip


def merge_sample_profiles(profiles: list[dict[str, Any]], kept_max: int = 18) -> dict[str, Any]:
    """Join shards' profiles (in shard order): counts add up, galleries are capped."""
    out = SampleProfile().to_dict()
    for p in profiles:
        for field in ("counts", "licenses", "ocr_cer", "categories"):
            for key, n in p.get(field, {}).items():
                out[field][key] = out[field].get(key, 0) + n
        out["turns"] += p["turns"]
        out["kept"].extend(p["kept"][: max(0, kept_max - len(out["kept"]))])
        for key, entries in p["dropped"].items():
            bucket = out["dropped"].setdefault(key, [])
            bucket.extend(entries[: max(0, DROPPED_PER_REASON - len(bucket))])
    return out


register_profile(Sample, ProfileKind(key="conversations", new=SampleProfile, merge=merge_sample_profiles))

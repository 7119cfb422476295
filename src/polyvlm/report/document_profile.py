"""What a dataset card shows of an interleaved-document corpus: per-image drop reasons, histograms, examples.

Every document that ends in the run (kept or dropped) adds the images it lost, by step and reason, from
`metadata["image_drops"]` — so the removals of every image rule, the corpus-wide cross_doc_dup (an
Aggregate, whose counters the engine does not collect) included, are counted in stats.json under
`interleaved.image_drops`, the same on any engine. Kept documents add to the histograms, and the first
few are kept as examples with their images in place (thumbnails, for report.html only).
"""

from __future__ import annotations

from typing import Any

from polyvlm.core.profiles import ProfileKind, register_profile
from polyvlm.core.records import Document
from polyvlm.io.interleaved_order import reading_order
from polyvlm.report.pair_profile import _bin, thumbnail

EDGES: dict[str, list[float]] = {
    "images_per_document": [0, 1, 2, 3, 4, 5, 6, 8, 10, 20, 50],
    "sentences_per_document": [0, 5, 10, 20, 30, 40, 50, 60, 80, 100, 150, 200, 500],
    "assigned_similarity": [round(-0.2 + 0.05 * i, 2) for i in range(17)],
}
EXAMPLES_PER_SHARD = 3
EXAMPLE_TEXT_CHARS = 600
OMITTED = "[… text left out of this example …]"


class DocumentProfile:
    """One shard's counts; merge_document_profiles joins shards."""

    def __init__(self) -> None:
        self.hist = {name: [0] * (len(edges) - 1) for name, edges in EDGES.items()}
        self.image_drops: dict[str, int] = {}
        self.kept = {"documents": 0, "images": 0, "sentences": 0}
        self.placement: dict[str, int] = {}
        self.examples: list[dict[str, Any]] = []

    def add(self, doc: Document, kept: bool, step: str = "", reason: str = "") -> None:
        """Count the images a document lost; a kept one also goes into the histograms (and maybe the examples)."""
        for drop in doc.metadata.get("image_drops") or []:
            key = f"{drop.get('step', '')}: {drop.get('reason', '')}"
            self.image_drops[key] = self.image_drops.get(key, 0) + 1
        if not kept:
            return
        self.kept["documents"] += 1
        self.kept["images"] += len(doc.images)
        self.kept["sentences"] += len(doc.texts)
        placement = doc.metadata.get("placement") or "none"
        self.placement[placement] = self.placement.get(placement, 0) + 1
        self._count("images_per_document", len(doc.images))
        self._count("sentences_per_document", len(doc.texts))
        for image in doc.images:
            if "matched_sim" in image.scores:
                self._count("assigned_similarity", image.scores["matched_sim"])
        if len(self.examples) < EXAMPLES_PER_SHARD:
            self.examples.append(example(doc))

    def _count(self, name: str, value: float) -> None:
        self.hist[name][_bin(EDGES[name], value)] += 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON form kept in a unit's stats."""
        return {"hist": self.hist, "image_drops": self.image_drops, "kept": self.kept,
                "placement": self.placement, "examples": self.examples}  # fmt: skip


def example(doc: Document) -> dict[str, Any]:
    """A document in reading order for the card: texts (shortened) and image thumbnails with their scores."""
    items: list[dict[str, Any]] = []
    budget = EXAMPLE_TEXT_CHARS
    for item in reading_order(doc):
        if isinstance(item, str):
            if budget > 0:
                items.append({"text": item[:budget] + ("…" if len(item) > budget else "")})
                budget -= len(item)
            elif not items or items[-1].get("text") != OMITTED:
                items.append({"text": OMITTED})  # the images after it still stand in their places
            continue
        image = doc.images[item]
        items.append({"thumb": thumbnail(image.data), "url": image.url, "scores": dict(image.scores),
                      "size": [image.width, image.height]})  # fmt: skip
    return {"id": doc.id, "url": doc.url, "placement": doc.metadata.get("placement", ""), "items": items,
            "license": doc.provenance.license}  # fmt: skip


def merge_document_profiles(profiles: list[dict[str, Any]], examples_max: int = 3) -> dict[str, Any]:
    """Join shards' profiles (in shard order): counts add up; the first examples_max examples stay."""
    out = DocumentProfile().to_dict()
    for p in profiles:
        for name, counts in p["hist"].items():
            out["hist"][name] = [a + b for a, b in zip(out["hist"][name], counts, strict=True)]
        for field in ("image_drops", "kept", "placement"):
            for key, n in p[field].items():
                out[field][key] = out[field].get(key, 0) + n
        out["examples"].extend(p["examples"][: max(0, examples_max - len(out["examples"]))])
    out["edges"] = EDGES
    return out


register_profile(Document, ProfileKind(key="interleaved", new=DocumentProfile, merge=merge_document_profiles))

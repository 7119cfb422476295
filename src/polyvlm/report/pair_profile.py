"""What a dataset card shows of a pair corpus: histograms of kept pairs and a gallery of kept and dropped ones."""

from __future__ import annotations

import base64
import io
from bisect import bisect_right
from typing import Any

from polyvlm.core.profiles import ProfileKind, register_profile
from polyvlm.core.records import Pair

# fixed bin edges, so per-shard histograms add up to the corpus's on any engine
EDGES: dict[str, list[float]] = {
    "alt_length": [0, 5, 10, 15, 20, 30, 40, 60, 80, 120, 200, 500],
    "image_min_side": [0, 100, 150, 224, 300, 400, 600, 800, 1200, 2000, 4000],
    "nsfw": [i / 10 for i in range(11)],
    "clip": [round(-0.2 + 0.05 * i, 2) for i in range(17)],
}
THUMB_SIDE = 160
KEPT_PER_SHARD = 8
DROPPED_PER_REASON = 2


def _bin(edges: list[float], value: float) -> int:
    """Index of the bin holding value; the first and last bins also take what falls outside."""
    return min(max(bisect_right(edges, value) - 1, 0), len(edges) - 2)


def pair_measures(pair: Pair) -> dict[str, float]:
    """The values histogrammed for a pair (those it has)."""
    out: dict[str, float] = {"alt_length": len(pair.text)}
    if pair.image.width and pair.image.height:
        out["image_min_side"] = min(pair.image.width, pair.image.height)
    for name in ("nsfw", "clip"):
        if name in pair.image.scores:
            out[name] = pair.image.scores[name]
    return out


def thumbnail(data: bytes | None) -> str:
    """A small JPEG as a data: URL, or '' when the bytes do not decode."""
    if not data:
        return ""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.draft("RGB", (THUMB_SIDE, THUMB_SIDE))
            im = im.convert("RGB")
            im.thumbnail((THUMB_SIDE, THUMB_SIDE))
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=70)
    except Exception:  # noqa: BLE001 — a gallery shows what it can; the pipeline judged the image already
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class PairProfile:
    """Accumulates one shard's histograms and gallery entries; `merge_profiles` joins shards."""

    def __init__(self) -> None:
        self.hist = {name: [0] * (len(edges) - 1) for name, edges in EDGES.items()}
        self.kept: list[dict[str, Any]] = []
        self.dropped: dict[str, list[dict[str, Any]]] = {}

    def add(self, pair: Pair, kept: bool, step: str = "", reason: str = "") -> None:
        """Count a kept pair in the histograms; keep a few kept and dropped pairs for the gallery."""
        if kept:
            for name, value in pair_measures(pair).items():
                self.hist[name][_bin(EDGES[name], value)] += 1
            if len(self.kept) < KEPT_PER_SHARD:
                self.kept.append(self._entry(pair, step, reason))
            return
        key = f"{step}: {reason}"
        bucket = self.dropped.setdefault(key, [])
        if len(bucket) < DROPPED_PER_REASON:
            bucket.append(self._entry(pair, step, reason))

    @staticmethod
    def _entry(pair: Pair, step: str, reason: str) -> dict[str, Any]:
        return {"id": pair.id, "text": pair.text[:300], "url": pair.image.url, "page": pair.url,
                "scores": dict(pair.image.scores), "size": [pair.image.width, pair.image.height],
                "step": step, "reason": reason, "thumb": thumbnail(pair.image.data)}  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The JSON form kept in a unit's stats."""
        return {"hist": self.hist, "kept": self.kept, "dropped": self.dropped}


def merge_profiles(profiles: list[dict[str, Any]], kept_max: int = 24) -> dict[str, Any]:
    """Join shards' profiles (in shard order): histograms add up, galleries are capped."""
    out = PairProfile().to_dict()
    for p in profiles:
        for name, counts in p["hist"].items():
            out["hist"][name] = [a + b for a, b in zip(out["hist"][name], counts, strict=True)]
        out["kept"].extend(p["kept"][: max(0, kept_max - len(out["kept"]))])
        for key, entries in p["dropped"].items():
            bucket = out["dropped"].setdefault(key, [])
            bucket.extend(entries[: max(0, DROPPED_PER_REASON - len(bucket))])
    out["edges"] = EDGES
    return out


register_profile(Pair, ProfileKind(key="pairs", new=PairProfile, merge=merge_profiles))

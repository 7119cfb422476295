"""cross_doc_dup: images with too many near-duplicates across documents (icons, ads, placeholders) go (an Aggregate).

A *duplicate* of an image is another image (in any document, this one included) whose 64-bit pHash lies
within `max_distance` bits of it: the same reading as doc_near_dup (0 gives the exact-pHash reading).
Two modes, both on the Hamming index of image/near_dup.py:

- `sample` (the LLM-jp VILA procedure): per partition (crawl year by default), the images are put in a
  seeded random order and cut into consecutive samples of `sample_size` — sampling without replacement,
  repeated until every image of the partition was sampled once (the last sample may be smaller). In each
  sample, an image with more than `max_duplicates` duplicates *in that sample* goes.
- `corpus`: an image with more than `max_duplicates` duplicates among all images of the corpus goes.

A Document loses the image and goes on (metadata image_drops); a Pair or a Sample is dropped (image_drops.py).
"""

from __future__ import annotations

import hashlib
import re
from array import array
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import Field

from polyvlm.core.records import Record
from polyvlm.core.step import Aggregate, Drop, Params, register
from polyvlm.image.image_drops import apply_verdicts
from polyvlm.image.near_dup import near_counts

REASON = "duplicate_across_documents"
_YEAR = re.compile(r"(19|20)\d\d")


class CrossDocDupParams(Params):
    """Parameters of cross_doc_dup."""

    mode: Literal["sample", "corpus"] = "sample"
    """sample: the paper's per-partition samples; corpus: count each image's duplicates over everything"""
    max_duplicates: int = Field(10, ge=0)
    """an image with more duplicates than this (in its sample, or in the corpus) goes"""
    max_distance: int = Field(5, ge=0, le=63)
    """pHashes within this many differing bits are duplicates (0: equal pHashes only)"""
    sample_size: int = Field(60_000, ge=1)
    """images per sample in the sample mode (the paper: 60,000)"""
    partition: Literal["crawl_year", "source", "none"] = "crawl_year"
    """sample mode: partitions sampled apart: the year in provenance.crawl_date, the input file, or one"""
    seed: int = 0
    """the order images are sampled in (the same seed samples the same way on any engine); default: the recipe's"""


@dataclass
class ImageHashes:
    """Every observed image: its partition, its seeded sampling key and its pHash; verdicts once merged."""

    hashes: dict[str, tuple[array, array]] = field(default_factory=dict)  # partition -> (keys, pHashes)
    counts: dict[int, int] | None = None  # sampling key -> duplicates, for the images that go (computed once)

    def add(self, partition: str, key: int, phash: int) -> None:
        """Record one image."""
        keys, hashes = self.hashes.setdefault(partition, (array("Q"), array("Q")))
        keys.append(key)
        hashes.append(phash)

    def extend(self, other: ImageHashes) -> None:
        """Append another partial state (a concatenation: the verdicts sort by key, so order is irrelevant)."""
        for partition, (keys, hashes) in other.hashes.items():
            mine = self.hashes.setdefault(partition, (array("Q"), array("Q")))
            mine[0].extend(keys)
            mine[1].extend(hashes)

    def over_limit(self, p: CrossDocDupParams) -> dict[int, int]:
        """Sampling key -> duplicate count of every image with more than max_duplicates (computed once)."""
        if self.counts is None:
            self.counts = {}
            groups = [self._all()] if p.mode == "corpus" else self._samples(p.sample_size)
            for keys, hashes in groups:
                counts = near_counts(hashes, p.max_distance)
                over = counts > p.max_duplicates
                self.counts.update(zip(keys[over].tolist(), counts[over].tolist(), strict=True))
        return self.counts

    def _all(self) -> tuple[np.ndarray, np.ndarray]:
        keys = [np.frombuffer(k, np.uint64) for k, _ in self.hashes.values()]
        hashes = [np.frombuffer(h, np.uint64) for _, h in self.hashes.values()]
        empty = np.zeros(0, np.uint64)
        return np.concatenate(keys or [empty]), np.concatenate(hashes or [empty])

    def _samples(self, size: int) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for partition in sorted(self.hashes):
            keys = np.frombuffer(self.hashes[partition][0], np.uint64)
            hashes = np.frombuffer(self.hashes[partition][1], np.uint64)
            order = np.lexsort((hashes, keys))  # the seeded keys are the random order
            for start in range(0, len(order), size):
                chosen = order[start : start + size]
                out.append((keys[chosen], hashes[chosen]))
        return out


def partition_of(record: Record, how: str) -> str:
    """The partition an image is sampled in: the crawl year, the input file, or one for all."""
    if how == "crawl_year":
        year = _YEAR.search(record.provenance.crawl_date)
        return year.group(0) if year else ""
    return record.provenance.source if how == "source" else ""


def sampling_key(seed: int, position: tuple[int, ...], index: int) -> int:
    """A seeded 64-bit key of the index-th image of the record at position (unique, engine-independent)."""
    text = f"{seed}\x00{','.join(map(str, position))}\x00{index}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


@register
class CrossDocDup(Aggregate):
    """Remove images with more than max_duplicates near-duplicates (pHash), per sampled partition or corpus-wide."""

    name = "cross_doc_dup"
    Params = CrossDocDupParams

    def init_state(self) -> ImageHashes:
        return ImageHashes()

    def observe(self, state: ImageHashes, record: Record, position: tuple[int, ...]) -> None:
        partition = partition_of(record, self.params.partition) if self.params.mode == "sample" else ""
        for i, image in enumerate(record.images):
            if image.phash:  # an image without a pHash (not decoded) is neither counted nor judged
                state.add(partition, sampling_key(self.params.seed, position, i), int(image.phash, 16))

    def merge(self, a: ImageHashes, b: ImageHashes) -> ImageHashes:
        a.extend(b)
        return a

    def apply(self, state: ImageHashes, record: Record, position: tuple[int, ...]) -> Record | Drop:
        over = state.over_limit(self.params)
        scope = "in its sample" if self.params.mode == "sample" else "in the corpus"
        verdicts: dict[int, Drop] = {}
        for i, image in enumerate(record.images):
            n = over.get(sampling_key(self.params.seed, position, i)) if image.phash else None
            if n is not None:
                verdicts[i] = Drop(REASON, f"{n} duplicates {scope}")
        return apply_verdicts(record, verdicts, self)

"""doc_near_dup: images of one document whose pHashes lie within Hamming k are one image; the largest stays."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from polyvlm.core.records import Document, Record
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.image.image_drops import apply_verdicts, image_drop_metrics
from polyvlm.image.near_dup import hashes_from_hex, near_pairs


class DocNearDupParams(Params):
    """Parameters of doc_near_dup."""

    max_distance: int = Field(5, ge=0, le=63)
    """pHashes within this many differing bits (of 64) are the same image (the paper: 5)"""


def near_groups(hashes: np.ndarray, max_distance: int) -> list[list[int]]:
    """Indexes grouped by 'within max_distance', transitively (a chain of near copies is one image), in order."""
    parent = list(range(len(hashes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in near_pairs(hashes, max_distance):
        ra, rb = root(int(a)), root(int(b))
        parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i in range(len(hashes)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def pixels(record: Document, i: int) -> int:
    """An image's pixel count (0 when its size is unknown)."""
    image = record.images[i]
    return (image.width or 0) * (image.height or 0)


@register
class DocNearDup(MapStep):
    """Keep one image of each group of near-duplicate images (pHash) inside a document: the highest resolution."""

    name = "doc_near_dup"
    Params = DocNearDupParams

    def metrics(self) -> dict[str, float]:
        return image_drop_metrics(self)

    def apply(self, record: Record) -> Record | Drop:
        if not isinstance(record, Document):
            # a pair holds one image; a sample's images are its turns' images, not copies to merge
            return record
        # images without a pHash (not decoded) are not judged here; decode_image gives every kept image one
        hashed = [i for i, im in enumerate(record.images) if im.phash]
        if len(hashed) < 2:
            return record  # most pages: nothing to compare, so no index is built
        hashes = hashes_from_hex([record.images[i].phash for i in hashed])
        verdicts: dict[int, Drop] = {}
        for group in near_groups(hashes, self.params.max_distance):
            if len(group) < 2:
                continue
            members = [hashed[g] for g in group]
            # the largest image stays; of equal sizes, the first in the document
            keep = max(members, key=lambda i: (pixels(record, i), -i))
            for i in members:
                if i != keep:
                    kept = record.images[keep]
                    detail = f"of image {keep} ({kept.width}x{kept.height})"
                    verdicts[i] = Drop("near_duplicate_in_document", detail)
        return apply_verdicts(record, verdicts, self)

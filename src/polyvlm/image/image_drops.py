"""One image, one verdict: a bad image leaves its Document with a counted reason, and the Document goes on.

A Pair is its image, so a bad image drops the pair. A Sample is dropped whole: its messages point at its
images by order (`<image>` markers), so removing one image would shift the others to the wrong turns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from polyvlm.core.records import Document, ImageRef, Pair, Record, Sample
from polyvlm.core.step import Drop, Step

IMAGE_DROPS = "image_drops"  # metadata key: [{"step", "reason", "detail", "url"}] in the order of removal
SIMILARITY_MATRIX = (
    "similarity_matrix"  # metadata key: a document's image × sentence CLIP matrix, a row per image
)
METRIC_PREFIX = "images_dropped:"  # a step's metrics: images removed from documents, by reason


def remove_images(record: Document, verdicts: dict[int, Drop], step: str) -> None:
    """Remove the images at the given indexes, noting each with its reason in metadata[IMAGE_DROPS]."""
    if not verdicts:
        return
    drops = record.metadata.setdefault(IMAGE_DROPS, [])
    for i in sorted(verdicts):
        d = verdicts[i]
        drops.append({"step": step, "reason": d.reason, "detail": d.detail, "url": record.images[i].url})
    record.images = [im for i, im in enumerate(record.images) if i not in verdicts]
    matrix = record.metadata.get(SIMILARITY_MATRIX)
    if isinstance(matrix, list):  # its rows stay aligned with the images that remain
        record.metadata[SIMILARITY_MATRIX] = [row for i, row in enumerate(matrix) if i not in verdicts]


def image_drop_counts(step: Step) -> Counter[str]:
    """The per-process count of images a step removed from documents, by reason (made on first use)."""
    # set lazily: steps reach workers as parameters only (Step.__getstate__) and are rebuilt there
    counts = step.__dict__.get("_image_drop_counts")
    if counts is None:
        counts = step.__dict__["_image_drop_counts"] = Counter()
    return counts


def image_drop_metrics(step: Step) -> dict[str, float]:
    """The counts as metrics (stats.json sums them per step: metrics.<step>.images_dropped:<reason>)."""
    return {METRIC_PREFIX + reason: float(n) for reason, n in image_drop_counts(step).items()}


def apply_verdicts(record: Record, verdicts: dict[int, Drop], step: Step) -> Record | Drop:
    """Act on per-image verdicts: a Document loses those images (counted); a Pair or Sample is dropped."""
    if not verdicts:
        return record
    if isinstance(record, Document):
        counts = image_drop_counts(step)
        for d in verdicts.values():
            counts[d.reason] += 1
        remove_images(record, verdicts, step.label)
        return record
    first = min(verdicts)
    d = verdicts[first]
    if isinstance(record, Sample):
        return Drop(d.reason, f"image {first}: {d.detail}" if d.detail else f"image {first}")
    return d


def judge_images(record: Record, judge: Callable[[ImageRef], Drop | None], step: Step) -> Record | Drop:
    """Judge each image of a record on its own (see apply_verdicts for what a bad image does)."""
    images = [record.image] if isinstance(record, Pair) else record.images
    verdicts = {i: d for i, im in enumerate(images) if (d := judge(im)) is not None}
    return apply_verdicts(record, verdicts, step)

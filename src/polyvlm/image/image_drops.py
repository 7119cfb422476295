"""Images leaving a Document or Sample one by one: the record goes on, each removed image's reason is kept."""

from __future__ import annotations

from polyvlm.core.records import Document, Sample

IMAGE_DROPS = "image_drops"  # metadata key: [{"step", "reason", "detail", "url"}] in the order of removal


def remove_images(record: Document | Sample, verdicts: dict[int, tuple[str, str]], step: str) -> None:
    """Remove the images at the given indexes ({index: (reason, detail)}), noting each in metadata[IMAGE_DROPS]."""
    if not verdicts:
        return
    drops = record.metadata.setdefault(IMAGE_DROPS, [])
    for i in sorted(verdicts):
        reason, detail = verdicts[i]
        drops.append({"step": step, "reason": reason, "detail": detail, "url": record.images[i].url})
    record.images = [im for i, im in enumerate(record.images) if i not in verdicts]

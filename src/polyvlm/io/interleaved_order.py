"""A document's sentences and images in reading order: what the interleaved writers lay out."""

from __future__ import annotations

from polyvlm.core.records import Document, ImageRef

NO_SPACE_LANGUAGES = {
    "ja",
    "zh",
    "th",
    "lo",
    "km",
    "my",
}  # sentences of these follow each other without a space


def images_before(doc: Document) -> dict[int, list[int]]:
    """Image indexes by the sentence they stand before (len(texts): after the last); unplaced images at the end."""
    out: dict[int, list[int]] = {}
    n = len(doc.texts)
    for k, image in enumerate(doc.images):
        j = image.segment_index
        out.setdefault(j if j is not None and 0 <= j <= n else n, []).append(k)
    return out


def mmc4_text_index(image: ImageRef, n_sentences: int) -> int | None:
    """mmc4's matched_text_index: the sentence the image goes before (an image after the last sentence: the last)."""
    if n_sentences == 0 or image.segment_index is None:
        return None
    return min(max(image.segment_index, 0), n_sentences - 1)


def reading_order(doc: Document) -> list[int | str]:
    """Image indexes (int) and texts (str) in reading order; the sentences between two images make one text.

    Sentences of one paragraph (`metadata["sentence_segment"]`) are joined as the language writes them
    (no space in Japanese, a space elsewhere); paragraphs by a blank line.
    """
    before = images_before(doc)
    segments = doc.metadata.get("sentence_segment")
    joiner = "" if doc.language in NO_SPACE_LANGUAGES else " "
    items: list[int | str] = []
    last_segment = None
    for j, sentence in enumerate(doc.texts):
        items.extend(before.get(j, []))
        segment = segments[j] if isinstance(segments, list) and j < len(segments) else j
        if items and isinstance(items[-1], str):
            items[-1] += (joiner if segment == last_segment else "\n\n") + sentence
        else:
            items.append(sentence)
        last_segment = segment
    items.extend(before.get(len(doc.texts), []))
    return items

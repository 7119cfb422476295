"""image_text_pairs: one Pair per <img> of a page that has an alt text (an expand step)."""

from __future__ import annotations

from polyvlm.core.records import Document, ImageRef, Pair, Provenance, Record
from polyvlm.core.step import Drop, ExpandStep, Params, register


class ImageTextPairsParams(Params):
    """Parameters of image_text_pairs."""

    dedupe_in_page: bool = True
    """the same (image URL, alt text) twice on one page makes one pair"""
    max_per_page: int = 1000
    """pairs made from one page at most; the rest are not made, and the first pair's metadata says how
    many (pairs_not_made)"""


def pair_id(doc_id: str, image: ImageRef, k: int) -> str:
    """A stable pair id: the page's id and the image's place in the page."""
    return f"{doc_id}-{image.dom_index if image.dom_index is not None else k}"


@register
class ImageTextPairs(ExpandStep):
    """Turn a page into its image-alt-text pairs (images without alt text make none)."""

    name = "image_text_pairs"
    Params = ImageTextPairsParams

    def expand(self, record: Record) -> list[Record] | Drop:
        if not isinstance(record, Document):
            return Drop("not_a_document")
        seen: set[tuple[str, str]] = set()
        pairs: list[Pair] = []
        not_made = 0
        for k, image in enumerate(record.images):
            if not image.alt.strip() or not image.url:
                continue
            key = (image.url, image.alt)
            if self.params.dedupe_in_page and key in seen:
                continue
            seen.add(key)
            if len(pairs) >= self.params.max_per_page:
                not_made += 1
                continue
            pairs.append(
                Pair(
                    id=pair_id(record.id, image, k),
                    text=image.alt,
                    image=ImageRef(url=image.url, dom_index=image.dom_index),  # the text lives in Pair.text
                    url=record.url,
                    language=record.language,
                    metadata={"page_title": record.metadata.get("title", ""), "page_id": record.id},
                    provenance=Provenance(**record.provenance.to_dict()),
                )
            )
        if not_made:
            pairs[0].metadata["pairs_not_made"] = not_made
        return list(pairs) or Drop("no_alt_images" if record.images else "no_images")

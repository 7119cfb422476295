"""doc_near_dup on real photos (examples/data/photos/, see its PROVENANCE.md) and their resized, recompressed
and cropped copies: one image per group stays, the largest."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageOps

from polyvlm.core.records import Document, ImageRef, Pair
from polyvlm.image.decode import decode
from polyvlm.image.doc_near_dup import DocNearDup, near_groups
from polyvlm.image.image_drops import IMAGE_DROPS
from polyvlm.image.near_dup import hashes_from_hex
from polyvlm.image.phash import hamming, phash

PHOTOS = Path(__file__).parents[1] / "examples" / "data" / "photos"


def image_ref(url: str, data: bytes) -> ImageRef:
    """An ImageRef as decode_image leaves it: size (upright) and pHash."""
    result = decode(data)
    assert not hasattr(result, "reason"), result
    h = phash(result.pixels, result.pixels_box, result.transpose)
    return ImageRef(url=url, data=data, width=result.width, height=result.height, phash=h)


def variant(name: str, kind: str) -> bytes:
    """A resized (half), recompressed (JPEG quality 25) or cropped (3% off each side) copy of a real photo."""
    image = ImageOps.exif_transpose(Image.open(PHOTOS / name)).convert("RGB")
    w, h = image.size
    if kind == "half":
        image = image.resize((w // 2, h // 2), Image.Resampling.LANCZOS)
    elif kind == "crop":
        image = image.crop((int(w * 0.03), int(h * 0.03), int(w * 0.97), int(h * 0.97)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=25 if kind == "q25" else 90)
    return out.getvalue()


def original(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


IRONING, WATER, JAPAN = "llava__extreme_ironing.jpg", "llava__waterview.jpg", "paddleocr__japan_2.jpg"


def test_the_largest_copy_stays_and_others_leave_with_a_reason():
    images = [
        image_ref("ironing-half", variant(IRONING, "half")),
        image_ref("ironing-crop", variant(IRONING, "crop")),
        image_ref(
            "water-q25", variant(WATER, "q25")
        ),  # same size as the original: the first of the two stays
        image_ref("ironing", original(IRONING)),
        image_ref("water-half", variant(WATER, "half")),
        image_ref("water", original(WATER)),
        image_ref("japan", original(JAPAN)),
    ]
    for i, im in enumerate(images):
        im.segment_index = i
    # the copies really are near copies, and the three photos really differ
    assert hamming(images[0].phash, images[3].phash) <= 5 and hamming(images[1].phash, images[3].phash) <= 5
    assert hamming(images[2].phash, images[5].phash) <= 5 and hamming(images[4].phash, images[5].phash) <= 5
    assert min(hamming(images[a].phash, images[b].phash) for a, b in [(3, 5), (3, 6), (5, 6)]) > 5
    doc = Document(id="d", language="ja", texts=["a"] * 7, images=images)
    out = DocNearDup().apply(doc)
    assert [im.url for im in out.images] == ["water-q25", "ironing", "japan"]
    assert [im.segment_index for im in out.images] == [2, 3, 6]  # the kept images stay where they stood
    drops = out.metadata[IMAGE_DROPS]
    assert [d["url"] for d in drops] == ["ironing-half", "ironing-crop", "water-half", "water"]
    assert {d["reason"] for d in drops} == {"near_duplicate_in_document"}
    assert drops[0]["detail"] == "of image 3 (570x380)" and drops[0]["step"] == "doc_near_dup"


def test_distance_zero_keeps_near_copies_and_unhashed_images_are_left_alone():
    images = [image_ref("ironing", original(IRONING)), image_ref("ironing-crop", variant(IRONING, "crop"))]
    assert 0 < hamming(images[0].phash, images[1].phash)
    images.append(ImageRef(url="not-decoded"))
    out = DocNearDup(max_distance=0).apply(Document(id="d", images=images))
    assert [im.url for im in out.images] == ["ironing", "ironing-crop", "not-decoded"]
    assert IMAGE_DROPS not in out.metadata
    pair = Pair(id="p", image=images[0])
    assert DocNearDup().apply(pair) is pair


def test_groups_are_transitive():
    # a-b at 5 bits, b-c at 5 bits, a-c at 10: one image (a chain of copies), d apart
    a = 0
    b = a ^ 0b11111
    c = b ^ (0b11111 << 5)
    d = 2**64 - 1
    hashes = hashes_from_hex([f"{x:016x}" for x in (a, b, c, d)])
    assert near_groups(hashes, 5) == [[0, 1, 2], [3]]

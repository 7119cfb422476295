"""One image, one verdict inside documents: decode_image, image_size and nsfw_filter remove a bad image
from a Document with a counted reason and the document goes on; a Sample is dropped whole; pairs as before."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

from polyvlm.core.recipe import load_recipe
from polyvlm.core.records import Document, ImageRef, Message, Pair, Sample, record_from_json, record_to_json
from polyvlm.core.step import Drop
from polyvlm.engine.run import run_recipe
from polyvlm.image.decode_step import DecodeImage
from polyvlm.image.image_drops import IMAGE_DROPS
from polyvlm.image.nsfw_step import NsfwFilter
from polyvlm.image.size_filter import ImageSize

PHOTOS = Path(__file__).parents[1] / "examples" / "data" / "photos"  # real photos, see its PROVENANCE.md
LAKE, IRONING = (
    (PHOTOS / "llava__waterview.jpg").read_bytes(),
    (PHOTOS / "llava__extreme_ironing.jpg").read_bytes(),
)
BROKEN = (PHOTOS / "ukbench09268_corrupt.jpg").read_bytes()


def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def page() -> Document:
    images = [
        ImageRef(url="lake", data=LAKE, segment_index=0),
        ImageRef(url="broken", data=BROKEN, segment_index=1),
        ImageRef(url="icon", data=tiny_png(), segment_index=1),
        ImageRef(url="missing", segment_index=2),
        ImageRef(url="ironing", data=IRONING, segment_index=2),
    ]
    return Document(id="d", language="ja", texts=["一。", "二。", "三。"], images=images)


def test_bad_images_leave_the_document_with_their_reasons_and_the_document_goes_on():
    decode, size = DecodeImage(), ImageSize()
    doc = decode.apply(page())
    assert isinstance(doc, Document)
    assert [im.url for im in doc.images] == ["lake", "icon", "ironing"]
    assert all(im.width and im.phash for im in doc.images)
    doc = size.apply(doc)
    assert isinstance(doc, Document)
    assert [(im.url, im.segment_index) for im in doc.images] == [("lake", 0), ("ironing", 2)]
    drops = doc.metadata[IMAGE_DROPS]
    assert [(d["url"], d["step"], d["reason"]) for d in drops] == [
        ("broken", "decode_image", "not_an_image"),  # a real photo file cut short
        ("missing", "decode_image", "no_image_data"),
        ("icon", "image_size", "too_small"),
    ]
    assert doc.texts == ["一。", "二。", "三。"]
    # the per-image counts are the steps' metrics: the engine sums them into stats.json
    assert decode.metrics() == {"images_dropped:not_an_image": 1.0, "images_dropped:no_image_data": 1.0}
    assert size.metrics() == {"images_dropped:too_small": 1.0}


def test_pairs_keep_their_verdicts_and_samples_go_whole():
    assert DecodeImage().apply(Pair(id="p", image=ImageRef(data=BROKEN))) == Drop("not_an_image")
    sample = Sample(
        id="s", images=[ImageRef(data=LAKE), ImageRef(data=BROKEN)], messages=[Message("user", "<image>")]
    )
    out = DecodeImage().apply(sample)
    assert isinstance(out, Drop) and out.reason == "not_an_image" and out.detail.startswith("image 1")


def test_nsfw_filter_judges_each_image_of_a_document():
    step = NsfwFilter(threshold=-1)  # every real photo scores above -1: each one goes
    step.check()
    step.setup()
    doc = Document(
        id="d", images=[ImageRef(url="lake", data=LAKE), ImageRef(url="broken", data=b"\xff\xd8 cut")]
    )
    keep = Document(id="k", images=[ImageRef(url="ironing", data=IRONING)])
    out = NsfwFilter(threshold=0.9)
    out.setup()
    judged = step.apply_batch([doc, Pair(id="p", image=ImageRef(data=LAKE))])
    assert isinstance(judged[0], Document) and judged[0].images == []
    assert [d["reason"] for d in judged[0].metadata[IMAGE_DROPS]] == ["nsfw", "undecodable_image"]
    assert isinstance(judged[1], Drop) and judged[1].reason == "nsfw"
    assert step.metrics() == {"images_dropped:nsfw": 1.0, "images_dropped:undecodable_image": 1.0}
    kept = out.apply_batch([keep])[0]
    assert isinstance(kept, Document) and [im.url for im in kept.images] == ["ironing"]
    assert 0.0 <= kept.images[0].scores["nsfw"] < 0.25


def test_stats_json_counts_dropped_images_per_step(tmp_path, write_recipe):
    (tmp_path / "in.jsonl").write_text(record_to_json(page()) + "\n" + record_to_json(page()) + "\n")
    recipe = write_recipe(f"""
        name: t
        inputs: ['{tmp_path}/in.jsonl']
        steps:
          - decode_image: {{}}
          - image_size: {{}}
          - doc_near_dup: {{}}
        outputs: [{{write_jsonl: {{path: docs}}}}]
        """)
    stats = run_recipe(load_recipe(recipe), output=str(tmp_path / "out"), progress=False)
    assert stats["balanced"] and stats["totals"]["kept"] == 2
    metrics = json.loads((tmp_path / "out" / "stats.json").read_text())["metrics"]
    assert metrics["decode_image"]["images_dropped:no_image_data"] == 2
    assert metrics["image_size"] == {"images_dropped:too_small": 2}
    out = [
        record_from_json(x)
        for f in (tmp_path / "out" / "docs").glob("*.jsonl")
        for x in f.read_text().splitlines()
    ]
    assert all([im.url for im in d.images] == ["lake", "ironing"] for d in out)

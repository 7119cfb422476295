"""Records per second through to_dict and from_dict (and the Arrow row form) on realistic records.

The records are a mix a pipeline sees: pages read from a crawl (undecoded payload, no images yet),
extracted documents (text segments, image references with scores), image-text pairs holding their
image bytes, and training samples (two images, four turns). Each kind is timed on its own and in the
mix. Time is the process's CPU time (the machine may be shared), the best of --repeat runs.

Run: .venv/bin/python benchmarks/records_roundtrip.py [--records 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from polyvlm.core.records import (
    Document,
    ImageRef,
    Message,
    Pair,
    Provenance,
    Record,
    Sample,
    record_from_dict,
    record_to_row,
    row_to_record,
)


def _provenance(rng: random.Random) -> Provenance:
    return Provenance(source="crawl-00012.warc.gz", license="CC-BY-4.0", offset=rng.randrange(10**9),
                      record_id=f"<urn:uuid:{rng.getrandbits(128):032x}>", crawl_date="2024-05-01T12:00:00Z")  # fmt: skip


def _image(rng: random.Random, data_bytes: int) -> ImageRef:
    return ImageRef(url=f"https://example.jp/img/{rng.getrandbits(32):08x}.jpg", alt="桜の咲く公園の写真",
                    data=rng.randbytes(data_bytes) if data_bytes else None, sha256=f"{rng.getrandbits(256):064x}",
                    width=640, height=480, format="jpeg", dom_index=rng.randrange(200), segment_index=rng.randrange(20),
                    phash=f"{rng.getrandbits(64):016x}", scores={"nsfw": rng.random(), "clip": rng.random()})  # fmt: skip


def crawled_page(rng: random.Random) -> Document:
    """A page as a WARC reader yields it: 30 kB of undecoded HTML."""
    return Document(id=f"page-{rng.getrandbits(48):012x}", url="https://example.jp/news/1", language="",
                    raw=rng.randbytes(30_000), raw_content_type="text/html", provenance=_provenance(rng))  # fmt: skip


def extracted_document(rng: random.Random) -> Document:
    """A page after extraction: 20 segments, 4 image references (no bytes), metadata."""
    return Document(id=f"doc-{rng.getrandbits(48):012x}", url="https://example.jp/news/1", language="ja",
                    texts=["日本語の段落です。" * 20 for _ in range(20)], images=[_image(rng, 0) for _ in range(4)],
                    metadata={"title": "ニュース", "lang_score": 0.98, "image_drops": [{"reason": "small"}]},
                    provenance=_provenance(rng))  # fmt: skip


def image_pair(rng: random.Random) -> Pair:
    """An alt-text pair holding a 20 kB image."""
    return Pair(id=f"pair-{rng.getrandbits(48):012x}", text="桜の咲く公園", image=_image(rng, 20_000),
                url="https://example.jp/news/1", language="ja", metadata={"alt_count": 2}, provenance=_provenance(rng))  # fmt: skip


def training_sample(rng: random.Random) -> Sample:
    """A VQA sample: two image paths, four turns."""
    images = [ImageRef(path=f"images/{rng.getrandbits(32):08x}.jpg", width=640, height=480) for _ in range(2)]
    turns = [Message("user", "<image>\nこの写真には何が写っていますか？"), Message("assistant", "公園に桜が咲いています。" * 3),
             Message("user", "季節はいつですか？"), Message("assistant", "春です。")]  # fmt: skip
    return Sample(id=f"s-{rng.getrandbits(48):012x}", images=images, messages=turns, task="vqa", language="ja",
                  metadata={"seed": 3}, provenance=Provenance(source="coco", generator="Qwen/Qwen3-8B"))  # fmt: skip


KINDS: dict[str, Callable[[random.Random], Record]] = {
    "crawled_page": crawled_page,
    "extracted_document": extracted_document,
    "image_pair": image_pair,
    "training_sample": training_sample,
}


def best_rate(fn: Callable[[], object], n: int, repeat: int) -> float:
    """Records per second of the fastest of `repeat` runs of fn over n records (CPU time of this process)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return n / best


def measure(records: list[Record], repeat: int) -> tuple[float, float, float, float]:
    """to_dict, from_dict, record_to_row and row_to_record rates (records/s) over records."""
    dicts = [r.to_dict() for r in records]
    rows = [(r.kind, record_to_row(r)) for r in records]
    assert [record_from_dict(d) for d in dicts] == records
    assert [row_to_record(k, row) for k, row in rows] == records
    n = len(records)
    return (
        best_rate(lambda: [r.to_dict() for r in records], n, repeat),
        best_rate(lambda: [record_from_dict(d) for d in dicts], n, repeat),
        best_rate(lambda: [record_to_row(r) for r in records], n, repeat),
        best_rate(lambda: [row_to_record(k, row) for k, row in rows], n, repeat),
    )


def main() -> None:
    """Print records/s per record kind and for the mix."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2000, help="records per kind")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(0)
    by_kind = {name: [make(rng) for _ in range(args.records)] for name, make in KINDS.items()}
    mix = [r for group in zip(*by_kind.values(), strict=True) for r in group]
    print(
        f"{'records':<20}"
        + "".join(f"{h:>13}" for h in ("to_dict/s", "from_dict/s", "to_row/s", "from_row/s"))
    )
    for name, records in [*by_kind.items(), ("mix", mix)]:
        rates = measure(records, args.repeat)
        print(f"{name:<20}" + "".join(f"{rate:>13,.0f}" for rate in rates))


if __name__ == "__main__":
    main()

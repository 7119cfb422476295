"""Records per second through to_dict and from_dict (and the Arrow row form) on realistic records.

The records are a mix a pipeline sees: pages read from a crawl (undecoded payload, no images yet),
extracted documents (text segments, image references with scores), image-text pairs holding their
image bytes, and training samples (two images, four turns). Each kind is timed on its own and in the
mix. Time is the process's CPU time (the machine may be shared), the best of --repeat runs, each
after a garbage collection.

--baseline REV also times core/records.py as it was at REV (a revision before records were split into
record_kinds/record_tables, e.g. c743748), loaded beside the current one; the two take turns in
each round, so a change in the machine's load falls on both.

Run: .venv/bin/python benchmarks/records_roundtrip.py [--records 2000] [--repeat 5] [--baseline c743748]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import pathlib
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import polyvlm.core.records

REPO = pathlib.Path(__file__).resolve().parent.parent


def records_at(rev: str) -> ModuleType:
    """core/records.py as it was at a git revision, loaded as a module of its own."""
    source = subprocess.run(["git", "show", f"{rev}:src/polyvlm/core/records.py"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    path = pathlib.Path(tempfile.mkdtemp()) / f"records_{rev}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up while building the classes
    spec.loader.exec_module(module)
    return module


def _provenance(rec: ModuleType, rng: random.Random) -> Any:
    return rec.Provenance(source="crawl-00012.warc.gz", license="CC-BY-4.0", offset=rng.randrange(10**9),
                          record_id=f"<urn:uuid:{rng.getrandbits(128):032x}>", crawl_date="2024-05-01T12:00:00Z")  # fmt: skip


def _image(rec: ModuleType, rng: random.Random, data_bytes: int) -> Any:
    return rec.ImageRef(url=f"https://example.jp/img/{rng.getrandbits(32):08x}.jpg", alt="桜の咲く公園の写真",
                        data=rng.randbytes(data_bytes) if data_bytes else None, sha256=f"{rng.getrandbits(256):064x}",
                        width=640, height=480, format="jpeg", dom_index=rng.randrange(200),
                        segment_index=rng.randrange(20), phash=f"{rng.getrandbits(64):016x}",
                        scores={"nsfw": rng.random(), "clip": rng.random()})  # fmt: skip


def crawled_page(rec: ModuleType, rng: random.Random) -> Any:
    """A page as a WARC reader yields it: 30 kB of undecoded HTML."""
    return rec.Document(id=f"page-{rng.getrandbits(48):012x}", url="https://example.jp/news/1", language="",
                        raw=rng.randbytes(30_000), raw_content_type="text/html", provenance=_provenance(rec, rng))  # fmt: skip


def extracted_document(rec: ModuleType, rng: random.Random) -> Any:
    """A page after extraction: 20 segments, 4 image references (no bytes), metadata."""
    return rec.Document(id=f"doc-{rng.getrandbits(48):012x}", url="https://example.jp/news/1", language="ja",
                        texts=["日本語の段落です。" * 20 for _ in range(20)], images=[_image(rec, rng, 0) for _ in range(4)],
                        metadata={"title": "ニュース", "lang_score": 0.98, "image_drops": [{"reason": "small"}]},
                        provenance=_provenance(rec, rng))  # fmt: skip


def image_pair(rec: ModuleType, rng: random.Random) -> Any:
    """An alt-text pair holding a 20 kB image."""
    return rec.Pair(id=f"pair-{rng.getrandbits(48):012x}", text="桜の咲く公園", image=_image(rec, rng, 20_000),
                    url="https://example.jp/news/1", language="ja", metadata={"alt_count": 2},
                    provenance=_provenance(rec, rng))  # fmt: skip


def training_sample(rec: ModuleType, rng: random.Random) -> Any:
    """A VQA sample: two image paths, four turns."""
    images = [
        rec.ImageRef(path=f"images/{rng.getrandbits(32):08x}.jpg", width=640, height=480) for _ in range(2)
    ]
    turns = [rec.Message("user", "<image>\nこの写真には何が写っていますか？"),
             rec.Message("assistant", "公園に桜が咲いています。" * 3),
             rec.Message("user", "季節はいつですか？"), rec.Message("assistant", "春です。")]  # fmt: skip
    return rec.Sample(id=f"s-{rng.getrandbits(48):012x}", images=images, messages=turns, task="vqa", language="ja",
                      metadata={"seed": 3}, provenance=rec.Provenance(source="coco", generator="Qwen/Qwen3-8B"))  # fmt: skip


KINDS: dict[str, Callable[[ModuleType, random.Random], Any]] = {
    "crawled_page": crawled_page,
    "extracted_document": extracted_document,
    "image_pair": image_pair,
    "training_sample": training_sample,
}


def _cpu_seconds(fn: Callable[[], object]) -> float:
    gc.collect()  # each run starts from the same heap, whichever ran before it
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def _operations(rec: ModuleType, records: list[Any]) -> list[Callable[[], object]]:
    """to_dict, from_dict, record_to_row and row_to_record over records (checked to round-trip first)."""
    dicts = [r.to_dict() for r in records]
    rows = [(r.kind, rec.record_to_row(r)) for r in records]
    assert [rec.record_from_dict(d) for d in dicts] == records
    assert [rec.row_to_record(k, row) for k, row in rows] == records
    return [
        lambda: [r.to_dict() for r in records],
        lambda: [rec.record_from_dict(d) for d in dicts],
        lambda: [rec.record_to_row(r) for r in records],
        lambda: [rec.row_to_record(k, row) for k, row in rows],
    ]


def rates(modules: dict[str, ModuleType], n: int, repeat: int) -> dict[str, dict[str, list[float]]]:
    """Records/s per module, record kind (and the mix) and operation; modules take turns within each round."""
    out: dict[str, dict[str, list[float]]] = {label: {} for label in modules}
    for name in [*KINDS, "mix"]:
        ops = {}
        for label, rec in modules.items():
            rng = random.Random(0)
            if name == "mix":
                groups = [[make(rec, rng) for _ in range(n)] for make in KINDS.values()]
                records = [r for group in zip(*groups, strict=True) for r in group]
            else:
                records = [KINDS[name](rec, rng) for _ in range(n)]
            ops[label] = (len(records), _operations(rec, records))
        best = {label: [float("inf")] * 4 for label in modules}
        for _ in range(repeat):
            for label, (_, fns) in ops.items():
                for i, fn in enumerate(fns):
                    best[label][i] = min(best[label][i], _cpu_seconds(fn))
        for label, (count, _) in ops.items():
            out[label][name] = [count / seconds for seconds in best[label]]
    return out


def main() -> None:
    """Print records/s per record kind and for the mix (and the baseline's, when asked)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2000, help="records per kind")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline", help="also time core/records.py at this git revision")
    args = ap.parse_args()
    modules = {f"at {args.baseline}": records_at(args.baseline)} if args.baseline else {}
    modules["now"] = polyvlm.core.records
    for label, by_kind in rates(modules, args.records, args.repeat).items():
        print(
            f"{label:<20}"
            + "".join(f"{h:>13}" for h in ("to_dict/s", "from_dict/s", "to_row/s", "from_row/s"))
        )
        for name, figures in by_kind.items():
            print(f"{name:<20}" + "".join(f"{rate:>13,.0f}" for rate in figures))


if __name__ == "__main__":
    main()

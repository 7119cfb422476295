"""Streaming training data at 10x scale: memory, time to the first batch, loader speed, reads on resume.

Synthetic shards (written once under --dir): WebDataset pairs with JPEG images (10^4 and 10^5 samples)
and text JSONL (10^5 and 10^6 rows). For each, one child process builds the source index (the one pass,
cached) and another trains' data path from the cache: mixture, PlanSampler, MicroBatches in --workers
dataloader workers with the tiny processor and the real Qwen tokenizer, as loop.py runs it. Printed per
dataset: the index pass (s, peak RSS), then from the cache: time to the first micro-batch, samples/s over
--batches micro-batches, peak RSS of the main process and of the largest worker, and the records read
by a loader restarted from step --resume-at's position (POLYVLM_READ_LOG): it must read only the
samples of the steps after it.

Goals (issue 22): peak RSS per process grows <= 10 % for 10x data; time to the first batch does not grow
with the data; the loader delivers >= 10x the samples/s a training step of the small model consumes
(--step-tokens-per-s, default 974 = 2x the 487 tokens/CPU-s docs/BENCHMARKS.md measured, issue 22's
goal for it); resume reads no sample before its step.

Run: .venv/bin/python benchmarks/train_data.py [--dir /tmp/polyvlm-train-data] [--workers 2]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import time

import numpy as np

DATASETS = [("pairs_webdataset", 10_000), ("pairs_webdataset", 100_000), ("text_jsonl", 100_000),
            ("text_jsonl", 1_000_000)]  # fmt: skip
PER_SHARD = 10_000
GLOBAL_BATCH, MICRO = 32, 8


def _jpegs(count: int) -> list[bytes]:
    from PIL import Image

    rng = np.random.default_rng(0)
    out = []
    for _ in range(count):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(
            buf, format="JPEG", quality=70
        )
        out.append(buf.getvalue())
    return out


def _member(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def generate(root: str, fmt: str, n: int) -> str:
    """Write the shards of one dataset (once); returns their glob."""
    folder = os.path.join(root, f"{fmt}-{n}")
    pattern = os.path.join(folder, "*.tar" if fmt == "pairs_webdataset" else "*.jsonl")
    if os.path.isfile(os.path.join(folder, "DONE")):
        return pattern
    os.makedirs(folder, exist_ok=True)
    images = _jpegs(256) if fmt == "pairs_webdataset" else []
    for s in range(-(-n // PER_SHARD)):
        rows = range(s * PER_SHARD, min(n, (s + 1) * PER_SHARD))
        if fmt == "pairs_webdataset":
            with tarfile.open(os.path.join(folder, f"part-{s:05d}.tar"), "w") as tar:
                for i in rows:
                    _member(tar, f"{i:08d}.jpg", images[i % len(images)])
                    _member(tar, f"{i:08d}.txt", f"夕方の湖と木の桟橋、写真 {i} 番。".encode())
        else:
            with open(os.path.join(folder, f"part-{s:05d}.jsonl"), "w", encoding="utf-8") as f:
                for i in rows:
                    text = f"文書 {i}。東京は日本の首都です。人口は約千四百万人です。" * 3
                    f.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
    open(os.path.join(folder, "DONE"), "w").close()
    return pattern


def _peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def child_index(fmt: str, pattern: str) -> dict:
    """Build the source index into an empty cache: the one pass (what a first run pays, once)."""
    import shutil

    from polyvlm.train.config import SourceConfig
    from polyvlm.train.data.stream import cache_dir, source_index

    shutil.rmtree(cache_dir(), ignore_errors=True)
    t0 = time.perf_counter()
    index = source_index(SourceConfig(name="s", format=fmt, path=pattern))
    return {"index_s": time.perf_counter() - t0, "records": index.read, "index_peak_mb": _peak_mb()}


def child_load(fmt: str, pattern: str, workers: int, batches: int, resume_at: int, log: str) -> dict:
    """From the cached index: first batch, throughput, RSS, and the reads of a restarted loader."""
    t0 = time.perf_counter()
    import torch

    from polyvlm.model.tiny import tiny_processor
    from polyvlm.model.tokenizer import build_qwen_tokenizer
    from polyvlm.train.config import SourceConfig
    from polyvlm.train.data.loader import MicroBatches, PlanSampler, micro_batch_loader
    from polyvlm.train.data.mixture import Mixture
    from polyvlm.train.data.stream import StreamSource, source_index

    torch.set_num_threads(1)
    processor = tiny_processor(build_qwen_tokenizer(), max_tiles=1)
    imports_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    source = StreamSource(source_index(SourceConfig(name="s", format=fmt, path=pattern)))

    def mixture() -> Mixture:
        return Mixture([len(source)], np.array([1.0]), GLOBAL_BATCH, seed=0)

    steps = -(-batches * MICRO // GLOBAL_BATCH)
    dataset = MicroBatches([source], processor, 4096, True, 1, needs_vision=fmt == "pairs_webdataset")
    it = iter(micro_batch_loader(dataset, PlanSampler(mixture, None, steps, 0, 1, MICRO), workers))
    first = next(it)
    first_s = time.perf_counter() - t0
    t1, samples, tokens = time.perf_counter(), len(first.sample_ids), first.tokens
    for mb in it:
        samples += len(mb.sample_ids)
        tokens += mb.tokens
    rate = (samples - len(first.sample_ids)) / (time.perf_counter() - t1)
    del it
    # a restart at step resume_at: the mixture's saved position, then a fresh loader, reads logged
    m = mixture()
    for _ in range(resume_at):
        m.next_batch()
    planned_after = [x for _ in range(2) for x in m.next_batch()]
    state = mixture()
    for _ in range(resume_at):
        state.next_batch()
    os.environ["POLYVLM_READ_LOG"] = log
    again = micro_batch_loader(dataset, PlanSampler(mixture, state.state_dict(), 2, 0, 1, MICRO), workers)
    for _ in again:
        pass
    del os.environ["POLYVLM_READ_LOG"]
    reads = [int(line.split()[2]) for line in open(log, encoding="utf-8") if line.startswith("read ")]
    before: set[int] = set()
    m = mixture()
    for _ in range(resume_at):
        before.update(i for _, i in m.next_batch())
    return {
        "imports_s": imports_s, "first_batch_s": first_s, "samples_per_s": rate,
        "tokens_per_sample": tokens / max(samples, 1), "main_peak_mb": _peak_mb(),
        "worker_peak_mb": _peak_mb(resource.RUSAGE_CHILDREN), "resume_reads": len(reads),
        "resume_planned": len(planned_after), "resume_reads_planned": sorted(reads) == sorted(i for _, i in planned_after),
        "resume_reads_before": len(set(reads) & before - {i for _, i in planned_after}),
    }  # fmt: skip


def run_child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default="/tmp/polyvlm-train-data")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batches", type=int, default=24)
    ap.add_argument("--resume-at", type=int, default=5)
    ap.add_argument("--step-tokens-per-s", type=float, default=974.0)
    ap.add_argument("--child", nargs="+")
    a = ap.parse_args()
    if a.child:
        kind, fmt, pattern = a.child[:3]
        os.environ["POLYVLM_INDEX_CACHE"] = os.path.join(
            a.dir, "index-cache", os.path.basename(os.path.dirname(pattern))
        )
        if kind == "index":
            result = child_index(fmt, pattern)
        else:
            result = child_load(fmt, pattern, a.workers, a.batches, a.resume_at, a.child[3])
        print(json.dumps(result))
        return
    rows = []
    for fmt, n in DATASETS:
        t0 = time.perf_counter()
        pattern = generate(a.dir, fmt, n)
        gen_s = time.perf_counter() - t0
        index = run_child(["--child", "index", fmt, pattern])
        log = os.path.join(a.dir, f"reads-{fmt}-{n}.log")
        if os.path.exists(log):
            os.remove(log)
        load = run_child(["--child", "load", fmt, pattern, log, "--workers", str(a.workers),
                          "--batches", str(a.batches), "--resume-at", str(a.resume_at)])  # fmt: skip
        rows.append({"format": fmt, "samples": n, "generate_s": gen_s, **index, **load})
        print(json.dumps(rows[-1]), flush=True)
    print(f"\n{'dataset':<26}{'index s':>9}{'index MB':>10}{'1st batch s':>12}{'samples/s':>11}"
          f"{'main MB':>9}{'worker MB':>10}{'resume reads':>14}")  # fmt: skip
    for r in rows:
        print(f"{r['format'] + ' ' + format(r['samples'], ','):<26}{r['index_s']:>9.1f}{r['index_peak_mb']:>10.0f}"
              f"{r['first_batch_s']:>12.2f}{r['samples_per_s']:>11.1f}{r['main_peak_mb']:>9.0f}"
              f"{r['worker_peak_mb']:>10.0f}{r['resume_reads']:>7} / {r['resume_planned']}")  # fmt: skip
    for fmt in ("pairs_webdataset", "text_jsonl"):
        small, big = [r for r in rows if r["format"] == fmt]
        consumed = a.step_tokens_per_s / small["tokens_per_sample"]
        print(f"{fmt}: 10x data: main RSS {big['main_peak_mb'] / small['main_peak_mb'] - 1:+.1%}, worker RSS "
              f"{big['worker_peak_mb'] / small['worker_peak_mb'] - 1:+.1%}, first batch "
              f"{small['first_batch_s']:.2f} -> {big['first_batch_s']:.2f} s; loader "
              f"{small['samples_per_s']:.1f} samples/s vs {consumed:.2f} a small-model step consumes "
              f"({small['samples_per_s'] / consumed:.0f}x); resume reads only the planned samples: "
              f"{all(r['resume_reads_planned'] and not r['resume_reads_before'] for r in (small, big))}")  # fmt: skip


if __name__ == "__main__":
    main()

"""Local vs Ray engine: wall time and peak memory (PSS summed over the run's process tree), and Ray resume.

Workloads, each at two input sizes (memory must not grow with the input):
  demo   recipes/demo.yaml's steps on WARC shards made by concatenating the bundled WARC files
  pairs  recipes/ja-pairs.yaml on a crawl of generated Japanese pages whose <img> URLs are served
         by the bundled photos (examples/build_crawl.py's builder), `--pair-images` images in all
Resume: the larger size of each workload on Ray, the driver killed (SIGKILL) at ~50% of an
uninterrupted run's wall time, then the same command; the work done twice is at most the killed run's
time plus the resumed run's beyond one uninterrupted run (that also holds a second Ray start).

Inputs go to --data-dir (outside the repository; built once, reused). Ray is a local Ray started by the
driver, so every Ray process (GCS, raylet, workers) is in the driver's process tree and in the sum.

Both sizes of a workload are cut into input files of the same size (--shard-mb, --pair-file-images), so
only the number of files differs between them. The uninterrupted Ray run of the comparison is the one the
resume is measured against.

Run: .venv/bin/python benchmarks/engines.py [--demo-mb 1024 256] [--pair-images 20000 5000]
     [--only demo|pairs] [--no-resume] [--data-dir /work/bench-data]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
GOOD_WARCS = (
    "resiliparse__clueweb09-ja_part1.warc.gz",
    "resiliparse__warcfile.warc.gz",
    "warcio__example.warc.gz",
)
IMAGES_PER_PAGE = 20


def build_demo(data: Path, mb: int, shard_mb: int) -> Path:
    """WARC shards of about shard_mb each, `mb` in all: the bundled WARCs' gzip members, concatenated."""
    out = data / f"demo-{mb}mb-in-{shard_mb}mb-files"
    if out.exists():
        return out
    blob = b"".join((REPO / "examples/data/warc" / n).read_bytes() for n in GOOD_WARCS)
    tmp = Path(tempfile.mkdtemp(dir=data))
    per_shard = max(1, shard_mb * 2**20 // len(blob))
    for s in range(max(1, mb // shard_mb)):
        with open(tmp / f"demo-{s:04d}.warc.gz", "wb") as f:
            for _ in range(per_shard):
                f.write(blob)
    tmp.rename(out)
    return out


def build_pairs(data: Path, images: int, per_file: int) -> Path:
    """A crawl of generated pages, IMAGES_PER_PAGE <img> with distinct Japanese alt texts and URLs each,
    in WARC files of `per_file` images each."""
    shards = max(1, images // per_file)
    out = data / f"pairs-{images}img-in-{per_file}img-files"
    if out.exists():
        return out
    sys.path.insert(0, str(REPO / "examples"))
    from build_crawl import build  # the demo crawl's builder: pages + image responses from bundled photos

    pages_dir = Path(tempfile.mkdtemp(dir=data))
    paths = []
    for p in range(images // IMAGES_PER_PAGE):
        imgs = "".join(
            f'<figure><img src="https://img{p % 7}.bench.example/p{p}/photo{i}.jpg" '
            f'alt="ベンチマーク用の写真{p}の{i}番目、公園の桜と人々"><figcaption>写真 {i}</figcaption></figure>'
            for i in range(IMAGES_PER_PAGE)
        )
        html = (f'<!doctype html><html><head><meta charset="utf-8"><title>ページ {p}</title>'
                f'<link rel="canonical" href="https://bench.example/pages/{p}.html"></head><body><article>'
                f"<h1>ページ {p}</h1><p>{'春の公園で撮った写真です。' * 20}</p>{imgs}</article></body></html>")  # fmt: skip
        path = pages_dir / f"page{p:06d}.html"
        path.write_text(html, encoding="utf-8")
        paths.append(str(path))
    photos = sorted(glob.glob(str(REPO / "examples/data/photos/*")))
    tmp = data / f"pairs-{images}img-building"  # no leading dot: the WARCs are named after it
    build(paths, photos, str(tmp), shards)
    shutil.rmtree(pages_dir)
    tmp.rename(out)
    return out


def demo_recipe(inputs: Path, where: Path) -> Path:
    """recipes/demo.yaml's steps and outputs on the WARC shards."""
    text = (REPO / "recipes/demo.yaml").read_text()
    head, _, rest = text.partition("inputs:")
    steps = rest[rest.index("steps:") :]
    recipe = where / f"demo-{inputs.name}.yaml"
    recipe.write_text(f"{head}inputs:\n  - {inputs}/*.warc.gz\n{steps}")
    return recipe


def pairs_recipe(inputs: Path, where: Path) -> Path:
    """recipes/ja-pairs.yaml on the generated crawl (images served from the crawl itself)."""
    text = (REPO / "recipes/ja-pairs.yaml").read_text().replace("examples/data/ja-crawl", str(inputs))
    recipe = where / f"pairs-{inputs.name}.yaml"
    recipe.write_text(text.replace("runs/image-cache", str(where / f"cache-{inputs.name}")))
    return recipe


class TreeMemory:
    """Samples the proportional set size (PSS: shared pages split between their users) of a process tree."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        self.root, self.every, self.peak, self.procs = psutil.Process(pid), every, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for p in procs:
                try:
                    total += p.memory_full_info().pss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            self.peak, self.procs = max(self.peak, total), max(self.procs, len(procs))
            self._stop.wait(self.every)

    def stop(self) -> int:
        """Stop sampling; returns the peak in bytes."""
        self._stop.set()
        self._thread.join()
        return self.peak


def run(recipe: Path, out: Path, engine: str, fresh: bool = True) -> dict:
    """One `polyvlm run`; wall seconds and peak tree memory."""
    cmd = [
        sys.executable,
        "-m",
        "polyvlm.cli",
        "run",
        str(recipe),
        "-o",
        str(out),
        "--quiet",
        "--engine",
        engine,
    ]
    if fresh:
        cmd.append("--fresh")
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    mem = TreeMemory(proc.pid)
    _, err = proc.communicate()
    peak = mem.stop()
    if proc.returncode != 0:
        raise SystemExit(f"{engine} run of {recipe} failed:\n{err.decode()[-3000:]}")
    stats = json.loads((out / "stats.json").read_text())
    return {"seconds": round(time.monotonic() - start, 1), "peak_mb": round(peak / 2**20), "procs": mem.procs,
            "records_in": stats["totals"]["records_in"], "kept": stats["totals"]["kept"],
            "funnel": [stats[k] for k in ("read", "steps", "written", "totals")]}  # fmt: skip


def resume(recipe: Path, out: Path, at: float, whole: tuple[dict, Path] | None = None) -> dict:
    """Kill the Ray driver at `at` of an uninterrupted run's time, run again; what was done twice.

    `whole` is the uninterrupted Ray run of the same recipe (figures, output) when this invocation has
    already made one; otherwise one is made first."""
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    cmd = [
        sys.executable,
        "-m",
        "polyvlm.cli",
        "run",
        str(recipe),
        "-o",
        str(out),
        "--quiet",
        "--engine",
        "ray",
    ]
    if whole is None:
        whole = run(recipe, out, "ray"), out
    whole, whole_out = whole
    units = len(list((whole_out / "_state" / "done").glob("*.json")))
    shutil.rmtree(out, ignore_errors=True)  # the markers counted below must be this run's
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done_dir = out / "_state" / "done"
    # killed at `at` of the uninterrupted wall time (a unit count would land on a phase boundary)
    while proc.poll() is None and time.monotonic() - start < at * whole["seconds"]:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_after = time.monotonic() - start
    done_before = len(list(done_dir.glob("*.json")))
    again = run(recipe, out, "ray", fresh=False)
    # what the kill cost: the killed run's time plus the resumed run's beyond one uninterrupted run; it
    # bounds the work done twice from above (it also holds the second Ray start)
    extra = killed_after + again["seconds"] - whole["seconds"]
    return {"units": units, "done_at_kill": done_before, "killed_after_s": round(killed_after, 1),
            "resume_s": again["seconds"], "whole_s": whole["seconds"], "extra_s": round(extra, 1),
            "redone_at_most": round(extra / whole["seconds"], 3),
            "same_funnel": again["funnel"] == whole["funnel"]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data-dir", default="/work/bench-data", help="where inputs are built (outside the repo)"
    )
    ap.add_argument("--demo-mb", type=int, nargs="+", default=[1024, 256], help="WARC sizes (MB) for demo")
    ap.add_argument("--shard-mb", type=int, default=8, help="size of one WARC file of the demo input (MB)")
    ap.add_argument("--pair-images", type=int, nargs="+", default=[20000, 5000], help="images in the crawl")
    ap.add_argument("--pair-file-images", type=int, default=500, help="images per WARC file of the crawl")
    ap.add_argument("--only", choices=["demo", "pairs"], help="one workload")
    ap.add_argument("--no-resume", action="store_true", help="skip the kill-and-resume measurement")
    ap.add_argument("--resume-at", type=float, default=0.5, help="kill at this fraction of the run's time")
    ap.add_argument("--resume-only", action="store_true", help="only the kill-and-resume measurement")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="polyvlm-bench-engines-"))
    results: dict = {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()}
    plans = []
    ray_runs: dict[Path, tuple[dict, Path]] = {}  # each input's uninterrupted Ray run, reused by resume
    if args.only in (None, "demo"):
        plans += [("demo", build_demo(data, mb, args.shard_mb), demo_recipe) for mb in args.demo_mb]
    if args.only in (None, "pairs"):
        plans += [
            ("pairs", build_pairs(data, n, args.pair_file_images), pairs_recipe) for n in args.pair_images
        ]
    try:
        for name, inputs, make_recipe in [] if args.resume_only else plans:
            recipe = make_recipe(inputs, work)
            size_mb = sum(f.stat().st_size for f in inputs.glob("*.warc.gz")) / 2**20
            row = {
                "workload": name,
                "input": inputs.name,
                "input_mb": round(size_mb),
                "files": len(list(inputs.glob("*.warc.gz"))),
            }
            for engine in ("local", "ray"):
                row[engine] = run(recipe, work / f"{inputs.name}-{engine}", engine)
            ray_runs[inputs] = dict(row["ray"]), work / f"{inputs.name}-ray"
            row["same_funnel"] = row["local"].pop("funnel") == row["ray"].pop("funnel")
            row["ray_over_local_time"] = round(row["ray"]["seconds"] / row["local"]["seconds"], 2)
            print(json.dumps(row), flush=True)
            results.setdefault("runs", []).append(row)
        if not args.no_resume:
            for name in ("demo", "pairs"):
                mine = [p for p in plans if p[0] == name]
                if mine:
                    _, inputs, make_recipe = mine[0]  # the first (largest) size
                    res = {"workload": name, "input": inputs.name,
                           **resume(make_recipe(inputs, work), work / f"{inputs.name}-resume", args.resume_at,
                                    ray_runs.get(inputs))}  # fmt: skip
                    print(json.dumps(res), flush=True)
                    results.setdefault("resume", []).append(res)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load_avg_at_end"] = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

"""fetch_images throughput against a local HTTP server: a cold run (every image over HTTP), then a warm one.

The server runs in its own process and answers on 16 loopback addresses (127.0.0.1 ... 127.0.0.16), so the
client sees 16 hosts and its per-host limit applies as it would on the web. Every URL is distinct and
serves distinct bytes: real photos from ../shared/data/images re-encoded to 20-60 KB, each with its own
JPEG comment segment. The client is the real step driven the way the local engine drives it (rows in
batches of the step's batch_size), with a fresh cache directory.

Run: .venv/bin/python benchmarks/fetch_images.py [--n 5000] [--workers 1]
Goal (issue 3): >= 500 images/s on 2 cores with 0 lost. No asserts: the figures are printed.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PHOTOS = REPO.parent / "shared" / "data" / "images"
HOSTS = [f"127.0.0.{k}" for k in range(1, 17)]
# the non-commercial yomitoku photos and a deliberately corrupt file are left out
SKIP = ("yomitoku", "corrupt")


def photo_pool(max_photos: int = 24) -> list[bytes]:
    """Real photos re-encoded as JPEGs of 20-60 KB (synthetic noise images when the photos are absent)."""
    from PIL import Image

    sources = sorted(p for p in PHOTOS.glob("*/*.jp*g") if not any(s in p.name for s in SKIP))
    pool: list[bytes] = []
    for path in sources[:max_photos]:
        with Image.open(path) as im:
            im = im.convert("RGB")
            for width in (360, 480, 640):
                im2 = im.resize((width, max(1, im.height * width // im.width)))
                for quality in (85, 70, 55, 40):
                    out = io.BytesIO()
                    im2.save(out, "JPEG", quality=quality)
                    if 20_000 <= out.tell() <= 60_000:
                        pool.append(out.getvalue())
                        break
    if not pool:
        import numpy as np

        rng = np.random.default_rng(0)
        for _ in range(16):
            out = io.BytesIO()
            Image.fromarray(rng.integers(0, 255, (180, 240, 3), dtype=np.uint8)).save(out, "JPEG", quality=75)
            pool.append(out.getvalue())
    return pool


def unique_jpeg(pool: list[bytes], i: int) -> bytes:
    """A pool photo with a COM segment naming i right after SOI: a valid JPEG with bytes of its own."""
    base = pool[i % len(pool)]
    note = f"polyvlm benchmark image {i}".encode()
    return base[:2] + b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note + base[2:]


def serve(port_queue: mp.Queue, pool: list[bytes]) -> None:
    """The server process: /img/<i>.jpg on every host in HOSTS; /count says how many were asked for."""
    import asyncio

    from aiohttp import web

    hits = Counter()

    async def image(request: web.Request) -> web.Response:
        hits["img"] += 1
        i = int(request.match_info["i"])
        return web.Response(body=unique_jpeg(pool, i), content_type="image/jpeg")

    async def count(request: web.Request) -> web.Response:
        return web.json_response(dict(hits))

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/img/{i:\\d+}.jpg", image)
        app.router.add_get("/count", count)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        first = web.TCPSite(runner, HOSTS[0], 0)
        await first.start()
        port = runner.addresses[0][1]
        for host in HOSTS[1:]:
            await web.TCPSite(runner, host, port).start()
        port_queue.put(port)
        await asyncio.Event().wait()

    asyncio.run(main())


def server_count(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/count", timeout=10) as r:
        return json.loads(r.read()).get("img", 0)


def client(urls: list[str], cache_dir: str, out_queue: mp.Queue | None = None) -> dict:
    """Run the real step over the URLs as the local engine does; returns counts and timings."""
    from polyvlm.core.records import ImageRef, Pair
    from polyvlm.engine.rows import OK, Row, apply_steps
    from polyvlm.image.fetch_step import FetchImages

    step = FetchImages(allow_addresses=["127.0.0.0/8"], cache_dir=cache_dir)
    step.check()
    rows = (Row(0, i, Pair(id=str(i), text="", image=ImageRef(url=u))) for i, u in enumerate(urls))
    t0, c0 = time.perf_counter(), time.process_time()
    ok, reasons, sources, nbytes = 0, Counter(), Counter(), 0
    for row in apply_steps(rows, [step]):
        if row.status == OK:
            ok += 1
            sources[row.record.metadata["image_source"]] += 1
            nbytes += len(row.record.image.data)
        else:
            reasons[f"{row.reason}: {row.detail[:80]}"] += 1
    result = {
        "n": len(urls), "ok": ok, "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
        "reasons": dict(reasons), "sources": dict(sources), "mb": nbytes / 1e6,
    }  # fmt: skip
    if out_queue is not None:
        out_queue.put(result)
    return result


def run_clients(urls: list[str], cache_dir: str, workers: int) -> dict:
    """One client in this process, or `workers` forked clients on disjoint slices of the URLs."""
    if workers == 1:
        return client(urls, cache_dir)
    ctx = mp.get_context("fork")
    q: mp.Queue = ctx.Queue()
    t0 = time.perf_counter()
    procs = [ctx.Process(target=client, args=(urls[k::workers], cache_dir, q)) for k in range(workers)]
    for p in procs:
        p.start()
    parts = [q.get() for _ in procs]
    for p in procs:
        p.join()
    merged = {"n": 0, "ok": 0, "cpu": 0.0, "mb": 0.0, "reasons": Counter(), "sources": Counter()}
    for part in parts:
        for key in ("n", "ok", "cpu", "mb"):
            merged[key] += part[key]
        merged["reasons"].update(part["reasons"])
        merged["sources"].update(part["sources"])
    merged["seconds"] = time.perf_counter() - t0
    return merged


def report(label: str, res: dict, requests: int) -> None:
    lost = res["n"] - res["ok"]
    rate = res["ok"] / res["seconds"] if res["seconds"] else float("inf")
    print(f"\n{label}")
    print(f"  images ok      {res['ok']} of {res['n']}  ({res['mb']:.1f} MB)   lost: {lost}")
    print(f"  wall           {res['seconds']:.2f} s   ->  {rate:,.0f} images/s")
    print(f"  client CPU     {res['cpu']:.2f} s   ->  {res['ok'] / max(res['cpu'], 1e-9):,.0f} images/CPU-s")
    print(f"  sources        {dict(res['sources'])}")
    print(f"  HTTP requests  {requests} (counted by the server)")
    for reason, n in sorted(res["reasons"].items(), key=lambda kv: -kv[1])[:10]:
        print(f"  lost: {n} x {reason}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000, help="distinct image URLs")
    ap.add_argument("--workers", type=int, default=1, help="client processes (the server always has its own)")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))

    pool = photo_pool()
    sizes = [len(unique_jpeg(pool, i)) for i in range(len(pool))]
    ctx = mp.get_context("fork")  # before any event loop exists in this process
    q: mp.Queue = ctx.Queue()
    server = ctx.Process(target=serve, args=(q, pool), daemon=True)
    server.start()
    try:
        port = q.get(timeout=30)
        urls = [f"http://{HOSTS[i % len(HOSTS)]}:{port}/img/{i}.jpg" for i in range(args.n)]
        print(f"fetch_images benchmark — {platform.python_version()}, {os.cpu_count()} cores, "
              f"client workers {args.workers}, server: 1 process")  # fmt: skip
        print(f"{args.n} distinct URLs on {len(HOSTS)} loopback hosts; {len(pool)} real photos as bases, "
              f"{min(sizes) / 1e3:.0f}-{max(sizes) / 1e3:.0f} KB each")  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="polyvlm-fetch-bench-") as cache_dir:
            before = server_count(port)
            cold = run_clients(urls, cache_dir, args.workers)
            mid = server_count(port)
            report("cold cache (every image over HTTP, written to the cache)", cold, mid - before)
            warm = run_clients(urls, cache_dir, args.workers)
            report("warm cache (a re-run)", warm, server_count(port) - mid)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\npeak RSS of the client process: {rss:.0f} MB")
        print(f"goal: >= 500 images/s with 0 lost — cold {cold['ok'] / cold['seconds']:,.0f}/s, "
              f"lost {cold['n'] - cold['ok']}; warm {warm['ok'] / warm['seconds']:,.0f}/s, "
              f"lost {warm['n'] - warm['ok']}")  # fmt: skip
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()

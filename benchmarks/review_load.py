"""Review server under load: 20 simulated annotators submitting against one `polyvlm review serve` process.

A project of --items French samples (each with its English original), --annotators annotators, 20 % of the
items shared by two of them. Each simulated annotator is an aiohttp session that logs in with its token and
then, until --seconds have passed, loops: GET /next (the page of its next item, with the form's CSRF token and
nonce), POST the review (ratings, every third one with an edited turn) — no think time, so this is a stress
figure, far above what people typing produce. One submit in 20 is sent twice with the same nonce (a double
click or a retry after a dropped answer): the second must be acknowledged without a second row.

Afterwards the server is stopped and the database is read directly: every acknowledged submission is in it
(lost = 0), nothing is in it twice or unacknowledged (duplicated = 0), and each assignment's versions run
1..n without gaps. Prints submissions/s, submit latency p50/p95/p99 and page latency p95.

Run: .venv/bin/python benchmarks/review_load.py [--seconds 60] [--annotators 20] [--items 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

import aiohttp

from polyvlm.core.records import Message, Provenance, Sample, record_to_json
from polyvlm.review.config import ReviewConfig
from polyvlm.review.project_init import init_project

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
NONCE = re.compile(r'name="nonce" value="([^"]+)"')
BASE = re.compile(r'name="base_version" value="(\d+)"')


def make_project(folder: str, n_items: int, annotators: list[str]) -> dict[str, str]:
    """A project of n_items samples; the annotators' tokens."""
    data = os.path.join(folder, "data.jsonl")
    with open(data, "w", encoding="utf-8") as f:
        for i in range(n_items):
            sample = Sample(
                id=f"s{i}", language="fr", task="caption",
                messages=[Message("user", "<image>\nDécrivez brièvement cette image."),
                          Message("assistant", f"Réponse {i} : un chat dort sur le canapé rouge.")],
                metadata={"translated_from": {"language": "en", "messages": [
                    {"role": "assistant", "content": f"Answer {i}: a cat sleeps on the red sofa."}]}},
                provenance=Provenance(generator="bench-model"),
            )  # fmt: skip
            f.write(record_to_json(sample) + "\n")
    result = init_project(data, os.path.join(folder, "project"), annotators, 2, 0.2, ReviewConfig())
    return result.tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as s:
        for _ in range(300):
            try:
                async with s.get(url + "/login") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


async def annotator(url: str, name: str, token: str, until: float, seed: int, out: dict) -> None:
    """One simulated annotator's session: log in, then review items until `until`."""
    rng = random.Random(seed)
    # unsafe=True: aiohttp keeps no cookies of a bare IP address (127.0.0.1) otherwise
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60), cookie_jar=jar) as s:
        async with s.get(url + "/login") as r:
            csrf = CSRF.search(await r.text()).group(1)
        async with s.post(url + "/login", data={"name": name, "token": token, "csrf": csrf}) as r:
            assert r.status == 200, await r.text()
        n = 0
        while time.monotonic() < until:
            t0 = time.perf_counter()
            try:
                async with s.get(url + "/next") as r:
                    page, where = await r.text(), str(r.url)
            except (aiohttp.ClientError, TimeoutError) as e:
                out["errors"].append(f"page: {e!r}")
                continue
            out["page_s"].append(time.perf_counter() - t0)
            m = re.search(r"/item/(\d+)$", where)
            if m is None:  # all done: nothing more to submit
                break
            form = {"csrf": CSRF.search(page).group(1), "nonce": NONCE.search(page).group(1),
                    "base_version": BASE.search(page).group(1),
                    "adequacy": str(rng.randint(1, 5)), "fluency": str(rng.randint(1, 5)),
                    "decision": rng.choice(["accept", "reject"]), "comment": ""}  # fmt: skip
            if n % 3 == 0:
                form["turn_1"] = f"Réponse revue par {name} ({n})."
            sends = 2 if rng.random() < 0.05 else 1
            for _ in range(sends):
                t0 = time.perf_counter()
                try:
                    async with s.post(f"{url}/item/{m.group(1)}", data=form, allow_redirects=False) as r:
                        status = r.status
                except (aiohttp.ClientError, TimeoutError) as e:
                    out["errors"].append(f"submit: {e!r}")
                    continue
                out["submit_s"].append(time.perf_counter() - t0)
                if status == 303:
                    out["acked"].append(form["nonce"])
                else:
                    out["errors"].append(f"submit status {status}")
            out["resent"] += sends - 1
            n += 1


def check_store(project: str, acked: list[str]) -> dict[str, int]:
    """Lost (acknowledged, not stored), duplicated (stored twice or never acknowledged), version gaps."""
    conn = sqlite3.connect(os.path.join(project, "review.sqlite"))
    stored = [r[0] for r in conn.execute("SELECT nonce FROM submissions")]
    versions = conn.execute(
        "SELECT assignment_id, COUNT(*), MAX(version) FROM submissions GROUP BY assignment_id"
    ).fetchall()
    return {
        "stored": len(stored),
        "lost": len(set(acked) - set(stored)),
        "duplicated": (len(stored) - len(set(stored))) + len(set(stored) - set(acked)),
        "version_gaps": sum(1 for _, count, top in versions if count != top),
    }


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


async def main_async(args: argparse.Namespace) -> None:
    names = [f"ann{i:02d}" for i in range(args.annotators)]
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        tokens = make_project(folder, args.items, names)
        print(
            f"project: {args.items} items, {len(names)} annotators ({time.perf_counter() - t0:.1f} s to init)"
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "polyvlm.cli", "review", "serve", os.path.join(folder, "project"),
             "--port", str(port)], stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            await wait_up(url)
            out: dict = {"acked": [], "submit_s": [], "page_s": [], "errors": [], "resent": 0}
            start = time.monotonic()
            until = start + args.seconds
            await asyncio.gather(*(annotator(url, n, tokens[n], until, i, out) for i, n in enumerate(names)))
            elapsed = time.monotonic() - start
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        store = check_store(os.path.join(folder, "project"), out["acked"])
    unique = len(set(out["acked"]))
    print(f"{len(names)} annotators for {elapsed:.1f} s against one server on 127.0.0.1 (uvicorn, 1 process)")
    print(
        f"submissions: {unique} stored acknowledged, {unique / elapsed:.1f}/s; {out['resent']} resent forms"
    )
    print(
        f"submit latency: p50 {percentile(out['submit_s'], 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(out['submit_s'], 0.95) * 1000:.1f} ms, p99 {percentile(out['submit_s'], 0.99) * 1000:.1f} ms"
    )
    print(f"page latency (GET /next -> item page): p95 {percentile(out['page_s'], 0.95) * 1000:.1f} ms")
    print(
        f"lost: {store['lost']}, duplicated: {store['duplicated']}, version gaps: {store['version_gaps']}, "
        f"errors: {len(out['errors'])}{' e.g. ' + out['errors'][0] if out['errors'] else ''}"
    )
    print(json.dumps({"submissions_per_s": round(unique / elapsed, 2), "stored": store["stored"], **store,
                      "errors": len(out["errors"])}))  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--annotators", type=int, default=20)
    p.add_argument("--items", type=int, default=20000)
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()

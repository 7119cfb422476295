"""Model-call engine benchmark: throughput against a server of known latency and capacity, cache re-run, overhead.

1. A real OpenAI-compatible server (tests/fake_openai_server.py) in its own process answers every
   request after --latency seconds and serves at most --capacity at once (the excess would get 429).
   M requests go through the real client (`CachedChatClient`, concurrency = capacity, a fresh response
   cache) as one batch: achieved requests/s against the ideal capacity / latency (goal: >= 95%).
2. The same batch again: every answer from the cache, no request sent (the server's count proves it).
3. Engine overhead per call, against a second server with no latency: the client's CPU time per call
   (cache lookup and store, token estimate, JSON, retries bookkeeping, aiohttp) next to a bare aiohttp
   loop sending the same requests with the same concurrency; the difference is what the engine adds.

Figures only, no asserts: the machine is shared, so read the ratios. Record them in docs/BENCHMARKS.md.

Run: .venv/bin/python benchmarks/model_calls.py [--requests 2000] [--capacity 32] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

from polyvlm.clients.chat import ChatRequest, ChatSpec, LimitsSpec
from polyvlm.clients.chat_open import CachedChatClient

SERVER = Path(__file__).resolve().parents[1] / "tests" / "fake_openai_server.py"


class ServerProcess:
    """The test server in a process of its own (so its CPU is not the client's)."""

    def __init__(self, latency: float, capacity: int | None) -> None:
        cmd = [sys.executable, str(SERVER), "--latency", str(latency)]
        if capacity:
            cmd += ["--capacity", str(capacity)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("PORT "):
            raise RuntimeError(f"the test server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats") as resp:
            return json.loads(resp.read())

    def close(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(10)


def requests_for(n: int, tag: str) -> list[ChatRequest]:
    return [
        ChatRequest([{"role": "user", "content": f"{tag} question number {i}: what is {i} + {i}?"}])
        for i in range(n)
    ]


def client_for(url: str, concurrency: int, cache_dir: str, name: str) -> CachedChatClient:
    spec = ChatSpec(
        backend="openai",
        model="bench-model",
        base_url=url,
        cache_path=os.path.join(cache_dir, f"{name}.sqlite"),
        sampling={"max_tokens": 64},
        limits=LimitsSpec(concurrency=concurrency, timeout_s=30),
    )
    return CachedChatClient(spec)


def timed(fn):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


async def raw_aiohttp(url: str, bodies: list[bytes], concurrency: int) -> None:
    """The floor: the same POSTs with a bare session and a semaphore, answers parsed, nothing else."""
    sem = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(body: bytes) -> None:
            async with (
                sem,
                session.post(
                    f"{url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
                ) as r,
            ):
                json.loads(await r.read())["choices"][0]["message"]["content"]

        await asyncio.gather(*(one(b) for b in bodies))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--capacity", type=int, default=32)
    ap.add_argument("--latency", type=float, default=0.05)
    args = ap.parse_args()
    m, c, lat = args.requests, args.capacity, args.latency
    print(
        f"python {platform.python_version()}, aiohttp {aiohttp.__version__}, {os.cpu_count()} cores (shared)"
    )
    cache_dir = tempfile.mkdtemp(prefix="polyvlm-bench-")

    server = ServerProcess(lat, c)
    try:
        client = client_for(server.url, c, cache_dir, "throughput")
        client.check()
        reqs = requests_for(m, "throughput")
        ideal = c / lat
        print(
            f"\n1. throughput: {m} requests, server latency {lat * 1000:.0f} ms, capacity {c}, concurrency {c}"
        )
        print(f"   ideal {ideal:,.0f} req/s ({m / ideal:.2f} s); goal >= 95% of it")
        # the bare aiohttp loop, in alternating rounds, is the ceiling this machine and server allow
        for rnd in range(2):
            bodies = [json.dumps(client.backend.body(r)).encode() for r in requests_for(m, f"bare{rnd}")]
            _, wall_b, _ = timed(lambda b=bodies: asyncio.run(raw_aiohttp(server.url, b, c)))
            print(
                f"   bare aiohttp    {wall_b:5.2f} s  {m / wall_b:5,.0f} req/s  {m / wall_b / ideal:6.1%} of ideal"
            )
            if rnd == 0:
                server_cpu = server.stats()["cpu_s"]
                results, wall, cpu = timed(lambda: client.complete(reqs))
                served = server.stats()
                server_cpu = served["cpu_s"] - server_cpu
                print(
                    f"   polyvlm client  {wall:5.2f} s  {m / wall:5,.0f} req/s  {m / wall / ideal:6.1%} of ideal  <-"
                )
        failed = sum(r.text is None for r in results)
        print(
            f"   per request: {wall * c / m * 1000:.1f} ms round trip for {lat * 1000:.0f} ms of server latency"
        )
        print(f"   server: peak {served['peak_in_flight']} in flight; failed results {failed}")
        print(f"   CPU: client {cpu:.2f} s ({cpu / m * 1e6:,.0f} us per call), server {server_cpu:.2f} s")
        print(f"   usage: {client.usage()}")

        again = client_for(server.url, c, cache_dir, "throughput")  # a new client, as a re-run would open
        before = server.stats()["requests"]
        results2, wall2, _ = timed(lambda: again.complete(reqs))
        sent = server.stats()["requests"] - before
        same = [r.text for r in results2] == [r.text for r in results]
        print(
            f"\n2. re-run of the same batch: {again.usage()['calls']:.0f} calls made, {sent} requests seen by the server,"
        )
        print(
            f"   {sum(r.cached for r in results2)} of {m} from the cache in {wall2 * 1000:.0f} ms ({wall2 / m * 1e6:.0f} us each); answers identical: {same}"
        )
    finally:
        server.close()

    fast = ServerProcess(0.0, None)
    try:
        n = m
        client = client_for(fast.url, c, cache_dir, "overhead")
        client.complete(requests_for(c, "warm"))  # connections opened, code paths warm
        _, wall_c, cpu_c = timed(lambda: client.complete(requests_for(n, "engine")))
        bodies = [json.dumps(client.backend.body(r)).encode() for r in requests_for(n, "raw")]
        _, wall_r, cpu_r = timed(lambda: asyncio.run(raw_aiohttp(fast.url, bodies, c)))
        print(f"\n3. overhead per call, server latency 0, {n} requests, concurrency {c}:")
        print(f"   polyvlm client: {cpu_c / n * 1e6:6,.0f} us CPU, {wall_c / n * 1e6:6,.0f} us wall per call")
        print(f"   bare aiohttp:   {cpu_r / n * 1e6:6,.0f} us CPU, {wall_r / n * 1e6:6,.0f} us wall per call")
        print(
            f"   engine overhead: {(cpu_c - cpu_r) / n * 1e6:,.0f} us CPU per call "
            f"(cache lookup + store, accounting, token estimate, retry bookkeeping)"
        )
    finally:
        fast.close()


if __name__ == "__main__":
    main()

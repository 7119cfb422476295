"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests and benchmarks (aiohttp.web).

It parses every request and answers by its configured behaviour: a deterministic answer derived from
the prompt (with `usage`), or a fault. The fault comes from the server's `mode`, or per prompt from a
tag in the last user message: `[[429]]`, `[[500]]`, `[[stall]]`, `[[truncated]]`, `[[empty]]`,
`[[nocontent]]`, `[[drop]]`; `[[500x2]]` fails the first two attempts of that prompt and then answers,
`[[500]]` fails only the first (`fail_times` is the default count; None in the server mode = always).
`latency` delays every answer; `capacity` caps requests in flight (the excess gets 429, Retry-After 0).
`reply(prompt)`, when given, scripts the answer text (a judge's verdict, say): its string is sent instead
of the default answer, and None falls back to the default.

In a test: `with FakeOpenAIServer(latency=0.05) as server: ... server.url ...` (a thread of its own).
As a process (benchmarks): `python tests/fake_openai_server.py --latency 0.05 --capacity 32 [--reply TEXT]` prints
`PORT <n>` and serves until stdin closes; GET /stats gives the counters as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web

TAG = re.compile(r"\[\[(429|500|stall|truncated|empty|nocontent|drop)(?:x(\d+))?\]\]")


def answer_text(prompt: str, body: dict[str, Any]) -> str:
    """What the server answers: a hash of everything that should change the answer, then the prompt."""
    ident = json.dumps(
        {k: v for k, v in body.items() if k not in ("messages", "stream")} | {"prompt": prompt},
        sort_keys=True,
    )
    return f"answer {hashlib.sha256(ident.encode()).hexdigest()[:12]}: {prompt}"


def prompt_of(body: dict[str, Any]) -> str:
    """The text of the last user message (text parts joined; images as `<image>`)."""
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(p.get("text", "") if p.get("type") == "text" else "<image>" for p in content)
            return str(content)
    return ""


class FakeOpenAIServer:
    """The server and its counters (requests seen per prompt, answers given, headers, peak concurrency)."""

    def __init__(
        self,
        latency: float = 0.0,
        capacity: int | None = None,
        mode: str = "answer",
        fail_times: int | None = None,
        retry_after: str = "1",
        stall_s: float = 3.0,
        api_key: str | None = None,
        record_bodies: bool = True,
        port: int = 0,
        azure_api_version: str | None = None,
        reply: Callable[[str], str | None] | None = None,
    ) -> None:
        self.latency, self.capacity, self.mode, self.fail_times = latency, capacity, mode, fail_times
        self.retry_after, self.stall_s, self.api_key, self.record_bodies = (
            retry_after,
            stall_s,
            api_key,
            record_bodies,
        )
        self.port = port
        # Azure OpenAI style: the key in an `api-key` header and `?api-version=` on every URL
        self.azure_api_version = azure_api_version
        self.reply = reply  # scripted answers by prompt (None: the default answer)
        self.requests = 0  # POST /chat/completions received
        self.seen: Counter[str] = Counter()  # attempts per prompt
        self.arrivals: list[float] = []  # time.monotonic() of each request as it arrived, in order
        self.arrivals_of: dict[str, list[float]] = {}  # the same per prompt: retries' spacing is visible
        self.answered: Counter[str] = Counter()  # good answers sent per prompt
        self.bodies: list[dict[str, Any]] = []
        self.auth: list[str] = []
        self.in_flight = self.peak = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The base_url to give a client."""
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict[str, Any]:
        """The counters as plain JSON."""
        with self._lock:
            return {
                "requests": self.requests,
                "answered": sum(self.answered.values()),
                "repeated": sum(n - 1 for n in self.answered.values() if n > 1),
                "peak_in_flight": self.peak,
                "cpu_s": time.process_time(),  # the serving process's CPU, for benchmarks
            }

    def _authorised(self, request: web.Request) -> bool:
        if self.azure_api_version is not None:
            if request.query.get("api-version") != self.azure_api_version:
                return False
            return self.api_key is None or request.headers.get("api-key") == self.api_key
        return self.api_key is None or request.headers.get("Authorization") == f"Bearer {self.api_key}"

    def _fault(self, prompt: str) -> str:
        tag = TAG.search(prompt)
        mode, times = (tag.group(1), int(tag.group(2) or 1)) if tag else (self.mode, self.fail_times)
        if mode == "answer":
            return ""
        attempt = self.seen[prompt]  # already counted: 1 on the first attempt
        return mode if times is None or attempt <= times else ""

    async def chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = json.loads(raw)
        prompt = prompt_of(body)
        with self._lock:
            self.requests += 1
            self.seen[prompt] += 1
            now = time.monotonic()
            self.arrivals.append(now)
            self.arrivals_of.setdefault(prompt, []).append(now)
            self.auth.append(request.headers.get("Authorization", ""))
            if self.record_bodies:
                self.bodies.append(body)
            fault = self._fault(prompt)
        if not self._authorised(request):
            return web.json_response({"error": {"message": "bad key"}}, status=401)
        if self.capacity is not None and self.in_flight >= self.capacity:
            return web.json_response(
                {"error": {"message": "over capacity"}}, status=429, headers={"Retry-After": "0"}
            )
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            return await self._respond(request, body, prompt, fault)
        finally:
            self.in_flight -= 1

    async def _respond(
        self, request: web.Request, body: dict[str, Any], prompt: str, fault: str
    ) -> web.StreamResponse:
        if fault == "429":
            return web.json_response(
                {"error": {"message": "slow down"}}, status=429, headers={"Retry-After": self.retry_after}
            )
        if fault == "500":
            return web.json_response({"error": {"message": "boom"}}, status=500)
        if fault == "stall":
            await asyncio.sleep(self.stall_s)
        if fault == "truncated":
            return web.Response(
                body=b'{"choices": [{"message": {"content": "hal', content_type="application/json"
            )
        if fault == "empty":
            return web.json_response(
                {"id": "x", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 0}}
            )
        if fault == "nocontent":
            return web.json_response({"id": "x", "choices": [{"index": 0, "message": {"role": "assistant"}}]})
        if fault == "drop":
            assert request.transport is not None
            request.transport.abort()  # the connection dies without a response
            raise asyncio.CancelledError
        scripted = self.reply(prompt) if self.reply is not None else None
        text = answer_text(prompt, body) if scripted is None else scripted
        with self._lock:
            self.answered[prompt] += 1
        completion_tokens = len(text.split())
        return web.json_response(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "model": body.get("model", ""),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
                "usage": {
                    "prompt_tokens": len(prompt.split()),
                    "completion_tokens": completion_tokens,
                    "total_tokens": len(prompt.split()) + completion_tokens,
                },
            }
        )

    async def models(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": {"message": "bad key"}}, status=401)
        return web.json_response({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    async def stats_handler(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/stats", self.stats_handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=1024)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        # stalled handlers are still sleeping: end them rather than leave them pending
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._runner.cleanup()

    def start(self) -> FakeOpenAIServer:
        """Serve on a thread of its own; returns when the port is open."""
        try:
            import uvloop

            self._loop = uvloop.new_event_loop()
        except ImportError:
            self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._shutdown())
            self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="fake-openai")
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        """Close the port and end the thread."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """Serve as a process until stdin closes (the benchmark's server, off the client's core)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--capacity", type=int, default=None)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--reply", default=None, help="answer every request with this text (e.g. 'Score: 4')")
    args = ap.parse_args()
    fixed = args.reply
    server = FakeOpenAIServer(
        latency=args.latency,
        capacity=args.capacity,
        record_bodies=False,
        port=args.port,
        reply=(lambda prompt: fixed) if fixed is not None else None,
    )
    server.start()
    print(f"PORT {server.port}", flush=True)
    sys.stdin.read()  # the parent closes our stdin (or dies) to stop us
    server.stop()


if __name__ == "__main__":
    main()

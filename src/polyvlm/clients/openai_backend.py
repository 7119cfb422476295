"""Any OpenAI-compatible chat-completions endpoint (vLLM, SGLang, OpenAI, Azure) over aiohttp.

A batch runs on `limits.concurrency` asyncio workers (so at most that many requests in flight), token buckets on
requests/min and tokens/min (tokens estimated before a call as prompt chars/3 + max_tokens, corrected
from the answer's `usage`), retries with exponential backoff and jitter on 429, 408, 5xx, timeouts and
dropped connections (a server's Retry-After wins, and a 429 pauses every request, not just its own), a
bounded number of retries of malformed answers, and a circuit breaker: `limits.breaker_failures`
requests in a row that failed against the endpoint (after their retries) raise EndpointDown, which
stops the run instead of spending every other request's retries on a dead server. For a minute after,
a batch raises EndpointDown at once; then one request may test the endpoint again (half-open).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import random
import urllib.parse
import urllib.request
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from threading import Lock
from typing import Any, TypeVar

import aiohttp

from polyvlm.clients.accounting import Accounting
from polyvlm.clients.breaker import CircuitBreaker
from polyvlm.clients.chat import ChatRequest, ChatResult, ChatSpec
from polyvlm.clients.limits import TokenBucket, estimate_tokens, retry_after_s
from polyvlm.clients.response_cache import merged_params
from polyvlm.clients.sync_runner import run_coroutine
from polyvlm.core.errors import RecipeError, StopRun

T = TypeVar("T")
MALFORMED_RETRIES = 2  # a malformed answer is usually the model's, not the network's: retry it less
BREAKER_COOLDOWN_S = 60.0  # after the breaker opens, batches fail at once for this long
MAX_RETRY_AFTER_S = 300.0  # a server asking for a longer pause is treated as down for this request
_INHERITED: list[Any] = []  # a forked child's copies of its parent's loop and session, never closed
RETRY_STATUS = {408, 429} | set(range(500, 600))
DOWN_STATUS = {401, 403, 404}  # every request will fail the same way: counts toward the breaker
REASONS = {
    "connection_refused": "connection refused",
    "connection_error": "connection dropped",
    "timeout": "timed out",
    "http_401": "HTTP 401: the API key was refused",
    "http_403": "HTTP 403: the API key may not use this model",
    "http_404": "HTTP 404: wrong base_url or model",
}


class EndpointDown(StopRun):
    """The circuit breaker opened: the endpoint failed too many requests in a row; the run must stop."""


@dataclass(slots=True)
class _Outcome:
    result: ChatResult
    retry: str = ""  # "" final; "endpoint" or "malformed": may be retried
    retry_after: float | None = None
    endpoint_failed: bool = False  # a final failure that says the endpoint (not this request) is broken


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when it is installed (less CPU per request), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for a URL (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as other clients use."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


def _text_of(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some servers answer in content parts
        texts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "".join(texts) if texts else None
    return None


def parse_answer(raw: bytes) -> _Outcome:
    """A 200 response body as a result: the text and token counts, or why it is unusable."""
    try:
        data = json.loads(raw)
    except ValueError:
        return _Outcome(ChatResult(None, "bad_response", f"not JSON: {raw[:120]!r}"), retry="malformed")
    if not isinstance(data, dict):
        return _Outcome(ChatResult(None, "bad_response", "the body is not a JSON object"), retry="malformed")
    if data.get("error"):
        return _Outcome(ChatResult(None, "bad_response", str(data["error"])[:300]), retry="malformed")
    choices = data.get("choices")
    if not choices or not isinstance(choices, list):
        return _Outcome(ChatResult(None, "empty_choices", "the answer has no choices"), retry="malformed")
    choice = choices[0] if isinstance(choices[0], dict) else {}
    text = _text_of((choice.get("message") or {}).get("content"))
    if text is None:
        return _Outcome(
            ChatResult(None, "bad_response", "no message.content in the answer"), retry="malformed"
        )
    usage = data.get("usage") or {}
    return _Outcome(
        ChatResult(
            text,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            finish_reason=str(choice.get("finish_reason") or ""),
        )
    )


class OpenAIBackend:
    """Sends batches of chat requests to one endpoint; one event loop and HTTP session per process."""

    def __init__(self, spec: ChatSpec, accounting: Accounting) -> None:
        self.spec = spec
        self.limits = spec.limits
        self.accounting = accounting
        self.base_url = spec.base_url.rstrip("/")
        query = f"?{urllib.parse.urlencode(spec.query)}" if spec.query else ""
        self._completions_url = f"{self.base_url}/chat/completions{query}"
        self._models_url = f"{self.base_url}/models{query}"
        self._pid = -1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._run_lock = Lock()  # one batch at a time per client; callers on other threads wait
        self._lock_pid = os.getpid()
        self._breaker = CircuitBreaker(self.limits.breaker_failures, BREAKER_COOLDOWN_S)
        self._random = random.Random()
        atexit.register(self.close)

    # --- configuration -------------------------------------------------------------------------------

    def _api_key(self) -> str:
        env = self.spec.api_key_env
        if not env:
            return ""
        key = os.environ.get(env, "")
        if not key:
            raise RecipeError(
                f"client.api_key_env names ${env}, but it is not set: export {env}=<your key> "
                "(the key itself never goes in a recipe)"
            )
        return key

    def _headers(self) -> dict[str, str]:
        key = self._api_key()
        if not key:
            return {}
        return (
            {"api-key": key} if self.spec.api_key_header == "api-key" else {"Authorization": f"Bearer {key}"}
        )

    def _scrub(self, text: str) -> str:
        # error bodies and exception texts must never carry the key into results or logs
        key = os.environ.get(self.spec.api_key_env, "") if self.spec.api_key_env else ""
        return text.replace(key, "***") if key else text

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON sent: model, messages (images as data URLs pass through), sampling, seed."""
        params, seed = merged_params(self.spec, request)
        return {"model": self.spec.model, "messages": request.messages, **params, "seed": seed}

    # --- running coroutines from synchronous callers -------------------------------------------------

    def _run(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        if self._lock_pid != os.getpid():
            # the parent's lock may have been held by one of its threads at the fork
            self._run_lock, self._lock_pid = Lock(), os.getpid()
        with self._run_lock:
            if self._loop is None or self._pid != os.getpid():
                # a forked child must not touch the parent's loop or sockets: start its own, and keep the
                # parent's objects alive, since closing them here would unregister the parent's sockets
                # from the epoll instance both processes share
                if self._loop is not None:
                    _INHERITED.append((self._loop, self._session))
                self._loop, self._session, self._pid = new_event_loop(), None, os.getpid()
            return run_coroutine(make, self._loop)

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={**self._headers(), "Content-Type": "application/json"},
                connector=aiohttp.TCPConnector(limit=self.limits.concurrency),
                timeout=aiohttp.ClientTimeout(total=self.limits.timeout_s),
                proxy=proxy_for(self.base_url),  # once here: trust_env costs two thread hops per request
            )
            self._pause_until = 0.0
            rpm, tpm = self.limits.requests_per_minute, self.limits.tokens_per_minute
            self._requests_bucket = TokenBucket(rpm) if rpm else None
            self._tokens_bucket = TokenBucket(tpm) if tpm else None
        return self._session

    def close(self) -> None:
        """Close the HTTP session of this process (at exit; a later batch opens a new one)."""
        if self._session is not None and not self._session.closed and self._pid == os.getpid():
            assert self._loop is not None
            if not self._loop.is_running() and not self._loop.is_closed():
                self._loop.run_until_complete(self._session.close())
        self._session = None

    # --- check ---------------------------------------------------------------------------------------

    def check(self) -> None:
        """One cheap request (GET /models, else a 1-token completion); unreachable → RecipeError."""
        if not self.base_url.startswith(("http://", "https://")):
            raise RecipeError(
                f"client.base_url {self.spec.base_url!r} is not an http(s) URL: give the endpoint, "
                "e.g. http://127.0.0.1:8000/v1 (vLLM) or https://api.openai.com/v1"
            )
        headers = self._headers()
        problem = self._run(lambda: self._probe(headers))
        if problem:
            raise RecipeError(self._scrub(problem))

    async def _probe(self, headers: dict[str, str]) -> str:
        timeout = aiohttp.ClientTimeout(total=min(self.limits.timeout_s, 15.0))
        proxy = proxy_for(self.base_url)
        async with aiohttp.ClientSession(headers=headers, timeout=timeout, proxy=proxy) as session:
            try:
                async with session.get(self._models_url) as resp:
                    status, text = resp.status, await resp.text(errors="replace")
                if status in (404, 405):  # some servers have no /models: ask for one token instead
                    body = {"model": self.spec.model, "messages": [{"role": "user", "content": "hi"}]}
                    async with session.post(self._completions_url, json={**body, "max_tokens": 1}) as r:
                        status, text = r.status, await r.text(errors="replace")
            except (aiohttp.ClientError, TimeoutError, OSError) as e:
                why = "timed out" if isinstance(e, TimeoutError) else f"{type(e).__name__}: {e}"
                return (
                    f"cannot reach the model endpoint {self.base_url} ({why}): start the server "
                    "(e.g. `vllm serve MODEL --port 8000`) or fix client.base_url"
                )
        if status in (401, 403):
            return (
                f"{self.base_url} refused the API key (HTTP {status}): check ${self.spec.api_key_env or '<unset>'}"
                " and client.api_key_env"
            )
        if status >= 400:
            return f"{self.base_url} answered HTTP {status} to a test request: {text[:200]}"
        return ""

    # --- batches -------------------------------------------------------------------------------------

    def complete(self, requests: list[ChatRequest], on_result: Callable[[int, ChatResult], None]) -> None:
        """Send every request; `on_result(i, result)` is called as each finishes. Raises EndpointDown."""
        if requests:
            self._headers()  # a missing key is a RecipeError before anything is sent
            self._run(lambda: self._batch(requests, on_result))

    async def _batch(self, requests: list[ChatRequest], on_result: Callable[[int, ChatResult], None]) -> None:
        session = self._ensure_session()
        if not self._breaker.admit_batch():
            self._raise_if_down()
        todo = iter(enumerate(requests))

        async def worker() -> None:
            for i, request in todo:  # one shared iterator: each request is taken by one worker
                await self._one(session, i, request, on_result)

        # `concurrency` workers rather than a task per request: nothing is prepared before a slot is free,
        # and a worker keeps its slot through a request's backoffs, so a dead endpoint sees few requests
        workers = [
            asyncio.ensure_future(worker()) for _ in range(min(self.limits.concurrency, len(requests)))
        ]
        done, pending = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
        for task in pending:  # the breaker opened: nothing more is sent
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        errors = [e for t in workers if t in done and (e := t.exception()) is not None]
        if errors:
            raise errors[0]

    async def _one(
        self,
        session: aiohttp.ClientSession,
        i: int,
        request: ChatRequest,
        on_result: Callable[[int, ChatResult], None],
    ) -> None:
        body = self.body(request)
        payload = json.dumps(body, ensure_ascii=False).encode()
        estimate = estimate_tokens(body)
        retries = malformed = 0
        while True:
            self._raise_if_down()
            await self._wait_turn(estimate)
            if retries == 0:
                self.accounting.add_call()
            out = await self._attempt(session, payload)
            if self._tokens_bucket is not None:
                # a failed attempt spent nothing; an answer without `usage` is taken at its estimate
                used = out.result.prompt_tokens + out.result.completion_tokens
                self._tokens_bucket.give_back(estimate - used if used or out.result.text is None else 0)
            out.result.retries = retries
            may_retry = (
                retries < self.limits.retries
                and (out.retry_after or 0.0) <= MAX_RETRY_AFTER_S
                and (out.retry == "endpoint" or (out.retry == "malformed" and malformed < MALFORMED_RETRIES))
            )
            if not may_retry:
                break
            retries += 1
            malformed += out.retry == "malformed"
            await asyncio.sleep(self._delay(retries, out))
        self._settle(out)
        on_result(i, out.result)
        self._raise_if_down()

    async def _wait_turn(self, estimate: int) -> None:
        loop = asyncio.get_running_loop()
        while (wait := self._pause_until - loop.time()) > 0:
            await asyncio.sleep(wait)
        if self._requests_bucket is not None:
            await self._requests_bucket.take(1)
        if self._tokens_bucket is not None:
            await self._tokens_bucket.take(estimate)

    def _delay(self, retries: int, out: _Outcome) -> float:
        if out.retry_after is not None:
            delay = out.retry_after + self._random.uniform(0, 0.05)  # never earlier than asked
        else:
            base = self.limits.backoff_s * 2 ** (retries - 1)
            delay = base * self._random.uniform(0.5, 1.5)
        if out.result.error == "http_429":
            # the limit is the endpoint's, not this request's: every request waits
            loop = asyncio.get_running_loop()
            self._pause_until = max(self._pause_until, loop.time() + delay)
        return delay

    def _settle(self, out: _Outcome) -> None:
        # the breaker counts requests, after their retries, that failed because of the endpoint
        if out.result.text is not None:
            self._breaker.success()
        elif out.endpoint_failed or out.retry == "endpoint":
            error = out.result.error
            self._breaker.failure(REASONS.get(error, error.replace("http_", "HTTP ").replace("_", " ")))

    def _raise_if_down(self) -> None:
        if self._breaker.tripped:
            self._breaker.open()
            raise EndpointDown(
                f"endpoint {self.base_url} is down: {self._breaker.failures} requests in a row failed "
                f"({self._breaker.last_reason}); stopped instead of burning the retry budget"
            )

    async def _attempt(self, session: aiohttp.ClientSession, payload: bytes) -> _Outcome:
        try:
            async with session.post(self._completions_url, data=payload) as resp:
                raw = await resp.read()
                status, headers = resp.status, resp.headers
        except TimeoutError:
            return _Outcome(
                ChatResult(None, "timeout", f"no answer in {self.limits.timeout_s:g} s"), "endpoint"
            )
        except aiohttp.ClientConnectorError as e:
            refused = isinstance(e.os_error, ConnectionRefusedError)
            error = "connection_refused" if refused else "connection_error"
            return _Outcome(ChatResult(None, error, self._scrub(str(e))[:300]), "endpoint")
        except (aiohttp.ClientError, OSError) as e:  # reset, dropped, payload cut short
            return _Outcome(
                ChatResult(None, "connection_error", self._scrub(f"{type(e).__name__}: {e}")[:300]),
                "endpoint",
            )
        if status == 200:
            return parse_answer(raw)
        detail = self._scrub(raw[:300].decode("utf-8", "replace"))
        result = ChatResult(None, f"http_{status}", detail)
        if status in RETRY_STATUS:
            return _Outcome(result, "endpoint", retry_after_s(headers))
        return _Outcome(result, endpoint_failed=status in DOWN_STATUS)

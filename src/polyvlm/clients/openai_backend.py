"""Any OpenAI-compatible chat-completions endpoint (vLLM, SGLang, OpenAI, Azure) over aiohttp.

A batch runs on `limits.concurrency` asyncio workers (so at most that many requests in flight). The
parts, each in its own module: the process's event loop and HTTP session, made again after a fork
(`process_session`); the API key (`api_key`); the health probe (`endpoint_probe`); what an answer means
(`openai_answer`); admission by token buckets on requests/min and tokens/min, and a pause that a 429
puts on every request (`admission`); retries with exponential backoff and jitter, a server's
Retry-After winning, malformed answers retried fewer times (`retry_policy`); and the circuit breaker
(`breaker`): `limits.breaker_failures` requests in a row that failed against the endpoint (after their
retries) raise EndpointDown, which stops the run instead of spending every other request's retries
on a dead server. For a minute after, a batch raises EndpointDown at once; then one request may test
the endpoint again (half-open).
"""

from __future__ import annotations

import asyncio
import json
import random
import urllib.parse
from collections.abc import Callable
from typing import Any

import aiohttp

from polyvlm.clients.accounting import Accounting
from polyvlm.clients.admission import Admission
from polyvlm.clients.api_key import ApiKey
from polyvlm.clients.breaker import CircuitBreaker, EndpointDown
from polyvlm.clients.chat import ChatRequest, ChatResult, ChatSpec
from polyvlm.clients.endpoint_probe import probe_endpoint
from polyvlm.clients.limits import estimate_tokens
from polyvlm.clients.openai_answer import AttemptOutcome, answer_outcome, failure_reason
from polyvlm.clients.process_session import ProcessSession, proxy_for
from polyvlm.clients.response_cache import merged_params
from polyvlm.clients.retry_policy import RetryPolicy, retry_outcomes
from polyvlm.core.errors import RecipeError

__all__ = ["BREAKER_COOLDOWN_S", "MALFORMED_RETRIES", "MAX_RETRY_AFTER_S", "EndpointDown", "OpenAIBackend"]

MALFORMED_RETRIES = 2  # a malformed answer is usually the model's, not the network's: retry it less
BREAKER_COOLDOWN_S = 60.0  # after the breaker opens, batches fail at once for this long
MAX_RETRY_AFTER_S = 300.0  # a server asking for a longer pause is treated as down for this request


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
        self._key = ApiKey(spec.api_key_env, spec.api_key_header)
        self._process = ProcessSession(self._open_session)
        self._admission = Admission(self.limits.requests_per_minute, self.limits.tokens_per_minute)
        self._retry_policy = RetryPolicy(
            self.limits.retries,
            self.limits.backoff_s,
            max_wait_s=MAX_RETRY_AFTER_S,
            kind_limits={"malformed": MALFORMED_RETRIES},
        )
        self._breaker = CircuitBreaker(self.limits.breaker_failures, BREAKER_COOLDOWN_S)
        self._random = random.Random()

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON sent: model, messages (images as data URLs pass through), sampling, seed."""
        params, seed = merged_params(self.spec, request)
        return {"model": self.spec.model, "messages": request.messages, **params, "seed": seed}

    def _open_session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            headers={**self._key.headers(), "Content-Type": "application/json"},
            connector=aiohttp.TCPConnector(limit=self.limits.concurrency),
            timeout=aiohttp.ClientTimeout(total=self.limits.timeout_s),
            proxy=proxy_for(self.base_url),  # once here: trust_env costs two thread hops per request
        )

    def close(self) -> None:
        """Close the HTTP session of this process (at exit; a later batch opens a new one)."""
        self._process.close()

    def check(self) -> None:
        """One cheap request (GET /models, else a 1-token completion); unreachable → RecipeError."""
        if not self.base_url.startswith(("http://", "https://")):
            raise RecipeError(
                f"client.base_url {self.spec.base_url!r} is not an http(s) URL: give the endpoint, "
                "e.g. http://127.0.0.1:8000/v1 (vLLM) or https://api.openai.com/v1"
            )
        headers = self._key.headers()
        problem = self._process.run(
            lambda: probe_endpoint(
                self.base_url,
                self._models_url,
                self._completions_url,
                self.spec.model,
                headers,
                self.limits.timeout_s,
                self.spec.api_key_env,
            )
        )
        if problem:
            raise RecipeError(self._key.scrub(problem))

    def complete(self, requests: list[ChatRequest], on_result: Callable[[int, ChatResult], None]) -> None:
        """Send every request; `on_result(i, result)` is called as each finishes. Raises EndpointDown."""
        if requests:
            self._key.headers()  # a missing key is a RecipeError before anything is sent
            self._process.run(lambda: self._batch(requests, on_result))

    async def _batch(self, requests: list[ChatRequest], on_result: Callable[[int, ChatResult], None]) -> None:
        session = self._process.session()
        if not self._breaker.admit_batch():
            self._breaker.stop_if_tripped(self.base_url)
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

        async def attempt(retries: int) -> AttemptOutcome:
            self._breaker.stop_if_tripped(self.base_url)
            await self._admission.wait_turn(estimate)
            if retries == 0:
                self.accounting.add_call()
            out = await self._attempt(session, payload)
            used = out.result.prompt_tokens + out.result.completion_tokens
            self._admission.settle(estimate, used, answered=out.result.text is not None)
            out.result.retries = retries
            return out

        tried = await retry_outcomes(
            attempt,
            self._retry_policy,
            retry_kind=lambda out: out.retry,
            retry_after=lambda out: out.retry_after,
            before_sleep=self._pause_on_429,
            rng=self._random,
        )
        out = tried.outcome
        # the breaker counts requests, after their retries, that failed because of the endpoint
        if out.result.text is not None:
            self._breaker.success()
        elif out.endpoint_fault:
            self._breaker.failure(failure_reason(out.result.error))
        on_result(i, out.result)
        self._breaker.stop_if_tripped(self.base_url)

    def _pause_on_429(self, out: AttemptOutcome, delay: float) -> None:
        if out.result.error == "http_429":
            self._admission.pause(
                delay
            )  # the limit is the endpoint's, not this request's: every request waits

    async def _attempt(self, session: aiohttp.ClientSession, payload: bytes) -> AttemptOutcome:
        try:
            async with session.post(self._completions_url, data=payload) as resp:
                raw = await resp.read()
                status, headers = resp.status, resp.headers
        except TimeoutError:
            return AttemptOutcome(
                ChatResult(None, "timeout", f"no answer in {self.limits.timeout_s:g} s"), "endpoint"
            )
        except aiohttp.ClientConnectorError as e:
            refused = isinstance(e.os_error, ConnectionRefusedError)
            error = "connection_refused" if refused else "connection_error"
            return AttemptOutcome(ChatResult(None, error, self._key.scrub(str(e))[:300]), "endpoint")
        except (aiohttp.ClientError, OSError) as e:  # reset, dropped, payload cut short
            return AttemptOutcome(
                ChatResult(None, "connection_error", self._key.scrub(f"{type(e).__name__}: {e}")[:300]),
                "endpoint",
            )
        return answer_outcome(status, raw, headers, self._key.scrub)

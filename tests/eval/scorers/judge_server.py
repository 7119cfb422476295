"""The real OpenAI-compatible test server as a scripted judge, and a real client for it.

A model answer carries the judge's verdict between << and >> (e.g. "<<Score: 4>>"); the judge prompt
quotes the answer, and the server replies with the marked text. Fault tags of the server
(`[[500x9]]`, `[[stallx9]]`, ...) in an answer make the judge call fail the same way.
"""

from __future__ import annotations

import re

from fake_openai_server import FakeOpenAIServer
from polyvlm.clients.chat import ChatSpec, LimitsSpec
from polyvlm.clients.chat_open import CachedChatClient

_VERDICT = re.compile(r"<<(.*?)>>", re.DOTALL)


def verdict(prompt: str) -> str | None:
    """The scripted reply: the first <<...>> in the prompt (None: the server's default answer)."""
    match = _VERDICT.search(prompt)
    return match.group(1) if match else None


def judge_server() -> FakeOpenAIServer:
    """A started-on-enter server that answers with the verdicts written in the answers."""
    return FakeOpenAIServer(reply=verdict, stall_s=3.0)


def judge_client(server: FakeOpenAIServer, tmp_path, **limits) -> CachedChatClient:
    """A real client of the server: few fast retries, a 1 s timeout (a stall is 3 s), its own cache file."""
    base = {"concurrency": 8, "retries": 1, "backoff_s": 0.01, "timeout_s": 1.0, "breaker_failures": 50}
    spec = ChatSpec(
        backend="openai",
        model="judge-model",
        base_url=server.url,
        cache_path=str(tmp_path / "judge-cache.sqlite"),
        limits=LimitsSpec(**(base | limits)),
    )
    return CachedChatClient(spec)

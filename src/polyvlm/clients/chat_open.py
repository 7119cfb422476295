"""Opening a chat client: the response cache in front of a backend, one client per process and spec.

`complete` looks every request up in the cache first; only the misses go to the backend, once each
(identical requests in one batch are sent once), and every successful answer is stored the moment it
arrives — so a run killed mid-batch has kept what it paid for, and its re-run does not pay again.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING

from polyvlm.clients.accounting import Accounting
from polyvlm.clients.chat import ChatClient, ChatRequest, ChatResult, ChatSpec
from polyvlm.clients.response_cache import ResponseCache, cache_key

if TYPE_CHECKING:  # the backends are imported when a client of theirs is opened
    from polyvlm.clients.local_backend import LocalBackend
    from polyvlm.clients.openai_backend import OpenAIBackend

_CLIENTS: dict[tuple[int, str], CachedChatClient] = {}


class CachedChatClient:
    """A ChatClient: cache lookups, a backend for the misses, and the accounting of both."""

    def __init__(self, spec: ChatSpec) -> None:
        self.spec = spec
        self.accounting = Accounting(spec.prices)
        self.cache = ResponseCache(spec.cache_path)
        if spec.backend == "openai":
            from polyvlm.clients.openai_backend import OpenAIBackend

            self.backend: OpenAIBackend | LocalBackend = OpenAIBackend(spec, self.accounting)
        else:
            from polyvlm.clients.local_backend import LocalBackend

            self.backend = LocalBackend(spec, self.accounting)

    def check(self) -> None:
        """Fail fast (RecipeError) when the model cannot be reached or loaded."""
        self.backend.check()

    def usage(self) -> dict[str, float]:
        """Counters since the client was opened."""
        return self.accounting.usage()

    def complete(self, requests: list[ChatRequest]) -> list[ChatResult]:
        """One result per request, in order; cached answers cost nothing. Raises only EndpointDown/RecipeError."""
        keys = [cache_key(self.spec, r) for r in requests]
        results: list[ChatResult | None] = [None] * len(requests)
        hits = self.cache.get_many(keys)
        first: dict[str, int] = {}  # key -> index of the request that will be sent for it
        for i, key in enumerate(keys):
            if key in hits:
                results[i] = replace(hits[key])
                self.accounting.add_result(results[i])
            else:
                first.setdefault(key, i)
        send = list(first.values())

        def on_result(j: int, result: ChatResult) -> None:
            i = send[j]
            self.cache.add(keys[i], self.spec.model, result)
            self.accounting.add_result(result)
            results[i] = result

        if send:
            try:
                self.backend.complete([requests[i] for i in send], on_result)
            finally:
                self.cache.flush()  # what arrived is stored, even when the breaker stops the batch
        for i, key in enumerate(keys):
            if results[i] is None:  # a repeat of a request sent in this batch: its answer, not paid twice
                answer = results[first[key]]
                assert answer is not None
                if answer.text is None:
                    results[i] = replace(answer)
                else:
                    results[i] = replace(answer, cached=True, retries=0)
                    self.accounting.add_result(results[i])
        return results  # type: ignore[return-value]


def open_chat_client(spec: ChatSpec) -> ChatClient:
    """The one client of this process for this spec (steps call this in setup(); a forked worker opens its own)."""
    key = (os.getpid(), spec.model_dump_json())
    client = _CLIENTS.get(key)
    if client is None:
        client = _CLIENTS[key] = CachedChatClient(spec)
    return client


open_client = open_chat_client  # the name scripts used before open_chat_client moved here from chat.py

"""A step's own view of a shared chat client: the usage of this step's calls only.

Clients are shared per process and spec, so two steps with the same `client:` (regenerate and translate
on one endpoint) would each report the other's calls as theirs; measuring around each `complete` call
(steps call synchronously) keeps every step's `metrics()` to its own.
"""

from __future__ import annotations

from collections import Counter

from polyvlm.clients.chat import ChatClient, ChatRequest, ChatResult


class MeteredClient:
    """Forwards to a ChatClient and adds up the growth of its usage counters during this step's calls."""

    def __init__(self, client: ChatClient) -> None:
        self.client = client
        self.counts: Counter[str] = Counter()

    def complete(self, requests: list[ChatRequest]) -> list[ChatResult]:
        """The client's answers; the usage they added is counted here."""
        before = self.client.usage()
        try:
            return self.client.complete(requests)
        finally:
            for key, value in self.client.usage().items():
                if value != before.get(key, 0):
                    self.counts[key] += value - before.get(key, 0)

    def usage(self) -> dict[str, float]:
        """This step's counters since setup."""
        return dict(self.counts)

    def check(self) -> None:
        """The client's own check."""
        self.client.check()

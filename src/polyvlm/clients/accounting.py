"""What a chat client has spent since it was opened: calls, cache hits, retries, failures, tokens, cost."""

from __future__ import annotations

from collections import Counter
from threading import Lock

from polyvlm.clients.chat import ChatResult


class Accounting:
    """Cumulative counters of one client; `usage()` is what goes into stats.json."""

    def __init__(self, prices: dict[str, float]) -> None:
        # USD per million tokens; an unknown side costs nothing rather than guessing a price
        self.prompt_price = float(prices.get("prompt", 0.0))
        self.completion_price = float(prices.get("completion", 0.0))
        self.calls = 0  # requests sent to the model (first attempts; retries are counted apart)
        self.cache_hits = 0
        self.retries = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.failures: Counter[str] = Counter()
        self._lock = Lock()  # results may be counted from the client's event-loop thread

    def add_call(self) -> None:
        """One request went to the model (it may still fail)."""
        with self._lock:
            self.calls += 1

    def add_result(self, result: ChatResult) -> None:
        """Count a finished request: tokens paid, retries made, or the reason it failed."""
        with self._lock:
            if result.cached:
                self.cache_hits += 1
                return
            self.retries += result.retries
            self.prompt_tokens += result.prompt_tokens
            self.completion_tokens += result.completion_tokens
            if result.text is None:
                self.failures[result.error or "unknown"] += 1

    def cost_usd(self) -> float:
        """Estimated spend from the configured prices."""
        return (self.prompt_tokens * self.prompt_price + self.completion_tokens * self.completion_price) / 1e6

    def usage(self) -> dict[str, float]:
        """All counters, cumulative since the client was opened; failures as `failures:<reason>`."""
        with self._lock:
            out: dict[str, float] = {
                "calls": self.calls,
                "cache_hits": self.cache_hits,
                "retries": self.retries,
                "failures": sum(self.failures.values()),
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "cost_usd": self.cost_usd(),
            }
            out.update({f"failures:{reason}": n for reason, n in sorted(self.failures.items())})
        return out

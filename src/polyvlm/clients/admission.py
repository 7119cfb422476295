"""Who may send next: a pause after a 429 holds every request, then token buckets on requests and tokens.

The buckets are made with the client, so a request's turn never depends on whether a session was
opened before it; they work on any event loop (a forked child runs its own).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from polyvlm.clients.limits import TokenBucket


class Admission:
    """Rate limits of one client: requests a minute, tokens a minute (estimated, then corrected), pauses."""

    def __init__(
        self,
        requests_per_minute: float | None,
        tokens_per_minute: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.clock, self.sleep = clock, sleep
        self.requests = TokenBucket(requests_per_minute, clock, sleep) if requests_per_minute else None
        self.tokens = TokenBucket(tokens_per_minute, clock, sleep) if tokens_per_minute else None
        self.paused_until = 0.0

    async def wait_turn(self, estimate: int) -> None:
        """Wait out a pause, then for one request and `estimate` tokens."""
        while (wait := self.paused_until - self.clock()) > 0:
            await self.sleep(wait)
        if self.requests is not None:
            await self.requests.take(1)
        if self.tokens is not None:
            await self.tokens.take(estimate)

    def pause(self, seconds: float) -> None:
        """Hold every request for `seconds` from now: a 429 is the endpoint's limit, not one request's."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    def settle(self, estimate: int, used: int, answered: bool) -> None:
        """Correct the token estimate once an attempt is over."""
        if self.tokens is not None:
            # a failed attempt spent nothing; an answer without `usage` is taken at its estimate
            self.tokens.give_back(estimate - used if used or not answered else 0)

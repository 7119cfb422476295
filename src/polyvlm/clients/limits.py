"""Rate limits and retry timing of a model client: token buckets, the token estimate, Retry-After."""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

IMAGE_TOKENS = 800  # estimate per image part (real counts come back in `usage`)
DEFAULT_MAX_TOKENS = 512  # estimate when no max_tokens is given


def _seconds(value: str | None) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return max(0.0, number) if math.isfinite(number) else None


def retry_after_s(headers: Any) -> float | None:
    """Seconds a server asks to wait: `retry-after-ms`, or Retry-After as seconds or an HTTP date.

    None when the headers name no wait or a malformed one (a date without a zone is malformed: HTTP dates
    are GMT, and guessing the local zone could turn a short wait into hours). The one parser for model
    endpoints and image fetching alike.
    """
    ms = _seconds(headers.get("retry-after-ms"))
    if ms is not None:
        return ms / 1000
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def estimate_tokens(body: dict[str, Any]) -> int:
    """Prompt chars/3 (+ a fixed guess per image) + max_tokens: what a request may cost before it is sent."""
    chars = images = 0
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text":
                    chars += len(str(part.get("text", "")))
                else:
                    images += 1
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or DEFAULT_MAX_TOKENS
    return chars // 3 + images * IMAGE_TOKENS + int(max_tokens)


class TokenBucket:
    """`per_minute` units a minute, with a one-second burst; a request bigger than the burst may go into debt."""

    def __init__(
        self,
        per_minute: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.clock, self.sleep = clock, sleep  # injectable so a test can see the waits without timing them
        self.level = self.capacity
        self.stamp = clock()
        self._lock: asyncio.Lock | None = None  # waiters queue in order instead of racing for each refill
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def _refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def _loop_lock(self) -> asyncio.Lock:
        # a lock belongs to the loop it first waited on; the bucket outlives loops (a forked child has its own)
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def take(self, n: float) -> None:
        """Wait until `n` units may be spent, then spend them."""
        async with self._loop_lock():
            self._refill()
            need = min(n, self.capacity)
            while self.level < need - 1e-9:  # not exact: a refill of the very wait asked for may round short
                await self.sleep((need - self.level) / self.rate)
                self._refill()
            self.level -= n

    def give_back(self, n: float) -> None:
        """Correct an estimate: positive gives units back, negative takes more (debt)."""
        self._refill()
        self.level = min(self.capacity, self.level + n)

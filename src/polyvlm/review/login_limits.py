"""Failed logins slow down: after `free` strikes a key (a name, an address, a device) waits, and each
further strike doubles the wait, up to `max_s`; a quiet `forget_s` clears it.

Written here rather than taken from a library: `limits` (and slowapi on top of it) counts requests in fixed
or moving windows, with no notion of consecutive failures, of a success that clears them, or of a wait that
doubles; what is needed is this one small table. State lives in the server process (a restart forgets it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Strikes:
    count: int = 0
    last: float = 0.0


class LoginLimiter:
    """Strikes per key, and how long a key must wait before its next try."""

    def __init__(
        self, free: int = 5, base_s: float = 2.0, max_s: float = 900.0, forget_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000,
    ) -> None:  # fmt: skip
        self.free, self.base_s, self.max_s, self.forget_s = free, base_s, max_s, forget_s
        self.clock, self.max_keys = clock, max_keys
        self._strikes: dict[str, _Strikes] = {}
        self._lock = threading.Lock()

    def _get(self, key: str, now: float) -> _Strikes | None:
        s = self._strikes.get(key)
        if s is not None and now - s.last > self.forget_s:
            del self._strikes[key]
            return None
        return s

    def delay_s(self, count: int) -> float:
        """The wait after `count` strikes: 0 for the free ones, then base_s doubling to max_s."""
        if count < self.free:
            return 0.0
        return min(self.max_s, self.base_s * 2.0 ** min(count - self.free, 60))

    def wait_s(self, key: str) -> float:
        """Seconds `key` must still wait (0: it may try now)."""
        now = self.clock()
        with self._lock:
            s = self._get(key, now)
            return 0.0 if s is None else max(0.0, s.last + self.delay_s(s.count) - now)

    def strike(self, key: str) -> None:
        """Count a try against `key` (before it is checked: concurrent tries cannot slip past the limit)."""
        now = self.clock()
        with self._lock:
            s = self._get(key, now)
            if s is None:
                if len(self._strikes) >= self.max_keys:  # a flood of made-up names must not grow memory
                    self._forget_oldest()
                s = self._strikes[key] = _Strikes()
            s.count += 1
            s.last = now

    def pardon(self, key: str) -> None:
        """Take back one strike (the try was right)."""
        with self._lock:
            s = self._strikes.get(key)
            if s is not None:
                s.count -= 1
                if s.count <= 0:
                    del self._strikes[key]

    def clear(self, key: str) -> None:
        """Forget every strike of `key` (its owner proved who they are)."""
        with self._lock:
            self._strikes.pop(key, None)

    def _forget_oldest(self) -> None:
        by_age = sorted(self._strikes, key=lambda k: self._strikes[k].last)
        for k in by_age[: len(by_age) // 2]:
            del self._strikes[k]

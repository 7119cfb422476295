"""A circuit breaker: after `threshold` failures in a row the endpoint counts as down for a cool-down.

Closed: requests go. Open (threshold reached, within the cool-down): a batch is refused at once.
Half-open (threshold reached, cool-down over): one more try is allowed; one more failure opens it again,
one success closes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from polyvlm.core.errors import StopRun


class EndpointDown(StopRun):
    """The circuit breaker opened: the endpoint failed too many requests in a row; the run must stop."""


class CircuitBreaker:
    """Counts consecutive endpoint failures across batches and says when to stop sending."""

    def __init__(
        self, threshold: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold, self.cooldown_s, self.clock = threshold, cooldown_s, clock
        self.failures = 0  # in a row; a success resets it
        self.last_reason = ""
        self._open_until: float | None = None  # end of the running cool-down, if one was started

    @property
    def tripped(self) -> bool:
        """The threshold is reached: no more requests until a cool-down passes."""
        return self.failures >= self.threshold

    def success(self) -> None:
        """A request was answered: close the breaker."""
        self.failures = 0

    def failure(self, reason: str) -> None:
        """A request failed because of the endpoint (after its retries)."""
        self.failures += 1
        self.last_reason = reason

    def admit_batch(self) -> bool:
        """May a new batch start? False while open; after the cool-down it is half-open: one more try."""
        if not self.tripped:
            return True
        if self._open_until is not None and self.clock() < self._open_until:
            return False
        self.failures = self.threshold - 1  # half-open: the next failure trips it again
        return True

    def open(self) -> None:
        """Start the cool-down (if one is not already running) as the run stops."""
        now = self.clock()
        if self._open_until is None or self._open_until <= now:
            self._open_until = now + self.cooldown_s

    def stop_if_tripped(self, endpoint: str) -> None:
        """Raise EndpointDown, starting the cool-down, once the threshold is reached."""
        if self.tripped:
            self.open()
            raise EndpointDown(
                f"endpoint {endpoint} is down: {self.failures} requests in a row failed "
                f"({self.last_reason}); stopped instead of burning the retry budget"
            )

"""When and how long to wait before trying again: one policy, on tenacity, for model calls and image fetches.

An attempt returns an outcome (it never raises for a failure worth retrying); `retry_kind(outcome)` says
whether it may be retried ("" when it is final). The wait is exponential backoff with jitter, capped at
`max_wait_s`, unless the outcome carries a server's Retry-After, which wins. A Retry-After longer than
`max_wait_s` is not waited for: the request stops there. A kind named in `kind_limits` (a malformed model
answer, say) is retried at most that many times, however many retries the policy allows.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base

T = TypeVar("T")
RETRY_AFTER_JITTER_S = 0.05  # added to a server's wait: never earlier than asked, and not all at once
_JITTER = random.Random()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long: retries after the first attempt, the first backoff, the longest wait."""

    retries: int
    backoff_s: float
    max_wait_s: float
    kind_limits: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Tried(Generic[T]):
    """The last outcome of a request and how many attempts it took."""

    outcome: T
    attempts: int


class RetryAfterWait(wait_base):
    """Backoff `backoff_s · 2^(n-1)`, capped at `cap_s`, times a jitter in [0.5, 1.5); a Retry-After wins."""

    def __init__(
        self,
        backoff_s: float,
        cap_s: float,
        retry_after: Callable[[Any], float | None],
        rng: random.Random = _JITTER,
    ) -> None:
        self.backoff_s, self.cap_s, self.retry_after, self.rng = backoff_s, cap_s, retry_after, rng

    def __call__(self, retry_state: RetryCallState) -> float:
        """Seconds to wait after attempt `retry_state.attempt_number`."""
        outcome = retry_state.outcome
        asked = None if outcome is None or outcome.failed else self.retry_after(outcome.result())
        if asked is not None:
            return asked + self.rng.uniform(0, RETRY_AFTER_JITTER_S)
        # jitter so that many clients failing together do not come back in step
        base = min(self.cap_s, self.backoff_s * 2 ** (retry_state.attempt_number - 1))
        return base * self.rng.uniform(0.5, 1.5)


class StopOnLongRetryAfter(stop_base):
    """Stop when the server asks for a longer pause than `cap_s`: a long ban is respected by not asking now."""

    def __init__(self, cap_s: float, retry_after: Callable[[Any], float | None]) -> None:
        self.cap_s, self.retry_after = cap_s, retry_after

    def __call__(self, retry_state: RetryCallState) -> bool:
        """True when the last outcome's Retry-After exceeds the cap."""
        outcome = retry_state.outcome
        asked = None if outcome is None or outcome.failed else self.retry_after(outcome.result())
        return asked is not None and asked > self.cap_s


class StopAfterKindRetries(stop_base):
    """Stop when outcomes of one kind have used up their own retries (`limits`: kind -> retries)."""

    def __init__(self, limits: Mapping[str, int], retry_kind: Callable[[Any], str]) -> None:
        self.limits, self.retry_kind = limits, retry_kind
        self.seen: dict[str, int] = {}  # one instance per request: tenacity asks once per retryable outcome

    def __call__(self, retry_state: RetryCallState) -> bool:
        """True when this outcome's kind was already retried as often as its limit allows."""
        outcome = retry_state.outcome
        if outcome is None or outcome.failed:
            return False
        kind = self.retry_kind(outcome.result())
        if kind not in self.limits:
            return False
        self.seen[kind] = self.seen.get(kind, 0) + 1
        return self.seen[kind] > self.limits[kind]


async def retry_outcomes(
    attempt: Callable[[int], Awaitable[T]],
    policy: RetryPolicy,
    *,
    retry_kind: Callable[[T], str],
    retry_after: Callable[[T], float | None],
    before_sleep: Callable[[T, float], None] | None = None,
    rng: random.Random = _JITTER,
) -> Tried[T]:
    """Call `attempt(retries_so_far)` until its outcome is final or the policy stops; exceptions propagate."""
    first = await attempt(0)
    if not retry_kind(first):
        # most requests succeed at once: tenacity's async loop costs ~50 µs a request, paid only on a retry
        return Tried(first, 1)
    pending = [first]

    async def call(retries: int) -> T:
        return pending.pop() if pending else await attempt(retries)

    def hook(state: RetryCallState) -> None:
        if before_sleep is not None and state.outcome is not None:
            before_sleep(state.outcome.result(), state.upcoming_sleep)

    retrying = AsyncRetrying(  # one per request: tenacity keeps a call's state on the object
        retry=retry_if_result(lambda outcome: bool(retry_kind(outcome))),
        stop=(
            StopAfterKindRetries(policy.kind_limits, retry_kind)
            | stop_after_attempt(policy.retries + 1)
            | StopOnLongRetryAfter(policy.max_wait_s, retry_after)
        ),
        wait=RetryAfterWait(policy.backoff_s, policy.max_wait_s, retry_after, rng),
        before_sleep=hook,
        retry_error_callback=_keep_last_outcome,
    )
    async for trial in retrying:
        with trial:
            outcome = await call(trial.retry_state.attempt_number - 1)
        if not trial.retry_state.outcome.failed:  # type: ignore[union-attr]
            trial.retry_state.set_result(outcome)
    state = trial.retry_state
    return Tried(state.outcome.result(), state.attempt_number)  # type: ignore[union-attr]


def _keep_last_outcome(retry_state: RetryCallState) -> None:
    """When the policy stops, the last outcome is the answer (no RetryError): it stays in the state."""

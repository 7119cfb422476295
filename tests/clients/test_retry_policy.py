"""The one retry policy (tenacity underneath): backoff, jitter, caps, Retry-After, per-kind limits."""

import asyncio
import random
from dataclasses import dataclass

import pytest
from tenacity import RetryCallState

from polyvlm.clients.retry_policy import RetryAfterWait, RetryPolicy, retry_outcomes


@dataclass
class Out:
    kind: str = ""  # "" final
    retry_after: float | None = None


class MidRng(random.Random):
    """uniform(a, b) gives the middle: the waits are exact."""

    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2


def state_after(attempt_number: int, outcome: Out) -> RetryCallState:
    state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
    state.attempt_number = attempt_number
    state.set_result(outcome)
    return state


def run(outcomes: list[Out], policy: RetryPolicy, **kw):
    seen: list[int] = []
    sleeps: list[tuple[Out, float]] = []

    async def attempt(retries: int) -> Out:
        seen.append(retries)
        return outcomes[len(seen) - 1]

    tried = asyncio.run(
        retry_outcomes(
            attempt,
            policy,
            retry_kind=lambda o: o.kind,
            retry_after=lambda o: o.retry_after,
            before_sleep=lambda o, d: sleeps.append((o, d)),
            **kw,
        )
    )
    return tried, seen, sleeps


def test_backoff_doubles_with_jitter_and_is_capped():
    wait = RetryAfterWait(backoff_s=1.0, cap_s=5.0, retry_after=lambda o: o.retry_after, rng=MidRng())
    assert [wait(state_after(n, Out("e"))) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    spread = RetryAfterWait(1.0, 100.0, lambda o: None)
    waits = [spread(state_after(3, Out("e"))) for _ in range(200)]
    assert 2.0 <= min(waits) and max(waits) < 6.0 and len(set(waits)) > 100  # 4 s × [0.5, 1.5)


def test_a_servers_retry_after_wins_and_is_never_undercut():
    wait = RetryAfterWait(backoff_s=1.0, cap_s=5.0, retry_after=lambda o: o.retry_after)
    for _ in range(50):
        assert 7.0 <= wait(state_after(1, Out("e", retry_after=7.0))) <= 7.05  # even above the backoff cap


def test_retries_until_final_and_counts_attempts():
    outcomes = [Out("e"), Out("e"), Out("")]
    tried, seen, sleeps = run(outcomes, RetryPolicy(retries=3, backoff_s=0.001, max_wait_s=1.0))
    assert tried.outcome is outcomes[2] and tried.attempts == 3 and seen == [0, 1, 2] and len(sleeps) == 2


def test_stops_after_the_retries_with_the_last_outcome():
    outcomes = [Out("e") for _ in range(5)]
    tried, seen, _ = run(outcomes, RetryPolicy(retries=2, backoff_s=0.001, max_wait_s=1.0))
    assert tried.outcome is outcomes[2] and tried.attempts == 3 and seen == [0, 1, 2]
    tried, seen, _ = run(outcomes, RetryPolicy(retries=0, backoff_s=0.001, max_wait_s=1.0))
    assert tried.attempts == 1 and seen == [0]


def test_a_retry_after_beyond_the_cap_is_not_waited_for():
    outcomes = [Out("e", retry_after=0.01), Out("e", retry_after=61.0), Out("")]
    tried, _, sleeps = run(outcomes, RetryPolicy(retries=5, backoff_s=0.001, max_wait_s=60.0))
    assert tried.outcome is outcomes[1] and tried.attempts == 2
    assert len(sleeps) == 1 and 0.01 <= sleeps[0][1] <= 0.01 + 0.05 + 1e-9  # the short one, jitter ≤ 50 ms


def test_a_kind_with_its_own_limit_is_retried_fewer_times():
    policy = RetryPolicy(retries=5, backoff_s=0.001, max_wait_s=1.0, kind_limits={"malformed": 2})
    bad = [Out("malformed") for _ in range(6)]
    tried, seen, _ = run(bad, policy)
    assert tried.attempts == 3 and seen == [0, 1, 2]  # two retries, not five
    # other kinds between them do not use the kind's budget
    mixed = [Out("malformed"), Out("e"), Out("e"), Out("malformed"), Out("malformed"), Out("")]
    tried, _, _ = run(mixed, policy)
    assert tried.outcome is mixed[4] and tried.attempts == 5


def test_before_sleep_sees_each_retried_outcome_and_its_wait():
    outcomes = [Out("e", retry_after=0.02), Out("e"), Out("")]
    _, _, sleeps = run(outcomes, RetryPolicy(retries=3, backoff_s=0.01, max_wait_s=1.0), rng=MidRng())
    assert sleeps == [(outcomes[0], pytest.approx(0.045)), (outcomes[1], pytest.approx(0.02))]


def test_an_exception_in_an_attempt_is_not_retried_but_raised():
    calls = []

    async def attempt(retries: int) -> Out:
        calls.append(retries)
        raise KeyError("stop the run")

    with pytest.raises(KeyError):
        asyncio.run(
            retry_outcomes(
                attempt,
                RetryPolicy(3, 0.001, 1.0),
                retry_kind=lambda o: o.kind,
                retry_after=lambda o: None,
            )
        )
    assert calls == [0]


def test_concurrent_requests_keep_their_own_counts():
    async def main() -> list[int]:
        async def one(fails: int) -> int:
            async def attempt(retries: int) -> Out:
                await asyncio.sleep(0.001)
                return Out("e" if retries < fails else "")

            tried = await retry_outcomes(
                attempt, RetryPolicy(5, 0.001, 1.0), retry_kind=lambda o: o.kind, retry_after=lambda o: None
            )
            return tried.attempts

        return await asyncio.gather(*(one(n % 4) for n in range(20)))

    assert asyncio.run(main()) == [n % 4 + 1 for n in range(20)]

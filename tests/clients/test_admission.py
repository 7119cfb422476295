"""Admission: token buckets made with the client, a 429's pause for every request, token corrections."""

import asyncio
import os

import pytest

from polyvlm.clients.admission import Admission
from test_chat_clients import FakeClock  # a clock that moves only when someone sleeps


def test_buckets_exist_from_construction_whatever_is_called_first():
    clock = FakeClock()
    admission = Admission(requests_per_minute=60, tokens_per_minute=6000, clock=clock, sleep=clock.sleep)
    assert admission.requests is not None and admission.tokens is not None
    admission.settle(estimate=100, used=40, answered=True)  # before any turn: no error, no effect on order

    async def run() -> None:
        await admission.wait_turn(100)  # 1 request a second, burst 1; 100 tokens a second, burst 100
        assert clock.sleeps == []
        await admission.wait_turn(50)
        assert sum(clock.sleeps) == pytest.approx(1.0)  # the second request waits for the request bucket

    asyncio.run(run())


def test_no_limits_means_no_waits():
    clock = FakeClock()
    admission = Admission(None, None, clock=clock, sleep=clock.sleep)

    async def run() -> None:
        for _ in range(100):
            await admission.wait_turn(10_000)

    asyncio.run(run())
    assert admission.requests is None and admission.tokens is None and clock.sleeps == []


def test_a_pause_holds_every_turn_and_only_grows():
    clock = FakeClock()
    admission = Admission(None, None, clock=clock, sleep=clock.sleep)
    admission.pause(2.0)
    admission.pause(0.5)  # a shorter pause does not cut the longer one short
    asyncio.run(admission.wait_turn(1))
    assert sum(clock.sleeps) == pytest.approx(2.0)
    clock.sleeps.clear()
    asyncio.run(admission.wait_turn(1))
    assert clock.sleeps == []


def test_token_corrections_failed_attempts_and_answers_without_usage():
    clock = FakeClock()
    admission = Admission(None, 600, clock=clock, sleep=clock.sleep)  # 10 tokens a second, burst 10
    bucket = admission.tokens
    asyncio.run(admission.wait_turn(10))
    admission.settle(estimate=10, used=0, answered=False)  # failed: the estimate comes back
    assert bucket.level == pytest.approx(10)
    asyncio.run(admission.wait_turn(10))
    admission.settle(estimate=10, used=0, answered=True)  # answered without usage: taken at its estimate
    assert bucket.level == pytest.approx(0)
    admission.settle(estimate=10, used=15, answered=True)  # used more: debt
    assert bucket.level == pytest.approx(-5)


def test_the_same_buckets_work_on_later_loops_and_in_a_forked_child():
    admission = Admission(requests_per_minute=6000, tokens_per_minute=None)  # 100 a second, burst 100

    async def crowd() -> None:
        await asyncio.gather(*(admission.wait_turn(1) for _ in range(120)))  # waiters contend for the lock

    asyncio.run(crowd())
    asyncio.run(crowd())  # a new loop: the bucket's lock of the first loop must not be reused
    pid = os.fork()
    if pid == 0:
        try:
            asyncio.run(crowd())
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

"""The circuit breaker stops the run with EndpointDown once tripped, and starts its cool-down."""

import pytest

from polyvlm.clients.breaker import CircuitBreaker, EndpointDown
from polyvlm.core.errors import StopRun


def test_stop_if_tripped_raises_with_the_reason_and_opens():
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown_s=60, clock=lambda: now[0])
    breaker.stop_if_tripped("http://127.0.0.1:1/v1")  # closed: nothing happens
    breaker.failure("HTTP 500")
    breaker.failure("connection refused")
    with pytest.raises(EndpointDown, match=r"http://127.0.0.1:1/v1 is down: 2 requests in a row failed "
                       r"\(connection refused\); stopped instead of burning the retry budget"):  # fmt: skip
        breaker.stop_if_tripped("http://127.0.0.1:1/v1")
    assert issubclass(EndpointDown, StopRun)
    now[0] = 30.0
    assert not breaker.admit_batch()  # the cool-down started when it stopped the run
    now[0] = 61.0
    assert breaker.admit_batch()

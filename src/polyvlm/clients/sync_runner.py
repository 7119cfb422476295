"""Running a coroutine from synchronous code, also when the calling thread already runs an event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(
    make: Callable[[], Coroutine[Any, Any, T]], loop: asyncio.AbstractEventLoop | None = None
) -> T:
    """Run `make()` to completion on `loop` (a new one when None) and return its result."""

    def run() -> T:
        return loop.run_until_complete(make()) if loop is not None else asyncio.run(make())

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    # called from inside a running loop (a notebook, an async host): that loop must not be blocked,
    # and a loop cannot be re-entered, so ours runs on a helper thread meanwhile
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()

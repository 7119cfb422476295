"""One event loop and one HTTP session per process, for synchronous callers; a forked child makes its own.

A client object may cross a `fork()` (engine workers are forked after the driver used it). The child
must not touch the parent's loop or sockets: it starts its own loop and opens its own session, and it
keeps the parent's objects alive but unclosed, since closing them would unregister the parent's
sockets from the epoll instance both processes share.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import urllib.parse
import urllib.request
from collections.abc import Callable, Coroutine
from threading import Lock
from typing import Any, TypeVar

import aiohttp

from polyvlm.clients.sync_runner import run_coroutine

T = TypeVar("T")
_INHERITED: list[Any] = []  # a forked child's copies of its parent's loop and session, never closed


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when it is installed (less CPU per request), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for a URL (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as other clients use."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


class ProcessSession:
    """Runs coroutines on this process's loop, one call at a time, with a session opened on first use."""

    def __init__(self, open_session: Callable[[], aiohttp.ClientSession]) -> None:
        self._open_session = (
            open_session  # called inside the loop: a session belongs to the loop it starts on
        )
        self._pid = -1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._run_lock = Lock()  # one call at a time per client; callers on other threads wait
        self._lock_pid = os.getpid()
        atexit.register(self.close)

    def run(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run `make()` to completion on this process's loop (made here after a fork) and return its result."""
        if self._lock_pid != os.getpid():
            # the parent's lock may have been held by one of its threads at the fork
            self._run_lock, self._lock_pid = Lock(), os.getpid()
        with self._run_lock:
            if self._loop is None or self._pid != os.getpid():
                if self._loop is not None:
                    _INHERITED.append((self._loop, self._session))
                self._loop, self._session, self._pid = new_event_loop(), None, os.getpid()
            return run_coroutine(make, self._loop)

    def session(self) -> aiohttp.ClientSession:
        """This process's HTTP session, opened on first use or after a close (call it inside `run`)."""
        if self._session is None or self._session.closed:
            self._session = self._open_session()
        return self._session

    def close(self) -> None:
        """Close the HTTP session of this process (at exit; a later call opens a new one)."""
        if self._session is not None and not self._session.closed and self._pid == os.getpid():
            assert self._loop is not None
            if not self._loop.is_running() and not self._loop.is_closed():
                self._loop.run_until_complete(self._session.close())
        self._session = None

"""One login attempt, limited: per name and per address (or, from a browser that logged in as that name
before, per device), each try counted before its token is checked, and a right one taking its strike back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from polyvlm.review.device_cookies import DEVICE_COOKIE, DEVICE_DAYS, device_id, new_device_cookie
from polyvlm.review.login_limits import LoginLimiter
from polyvlm.review.session_key import SessionKey

Outcome = Literal["ok", "wrong", "wait"]


@dataclass
class LoginGuard:
    """The server's login limits (in memory: a restart forgets strikes)."""

    key: SessionKey
    by_name: LoginLimiter = field(default_factory=lambda: LoginLimiter(free=5))
    # looser: a team behind one address (a proxy, an office) shares it
    by_address: LoginLimiter = field(default_factory=lambda: LoginLimiter(free=20))
    by_device: LoginLimiter = field(default_factory=lambda: LoginLimiter(free=5))

    def _keys(self, request: Request, name: str) -> list[tuple[LoginLimiter, str]]:
        device = device_id(self.key.current(), request.cookies.get(DEVICE_COOKIE), name)
        if device is not None:
            return [(self.by_device, device)]
        host = request.client.host if request.client else "unknown"
        return [(self.by_name, name[:100]), (self.by_address, host)]

    async def attempt(self, request: Request, name: str, check: Callable[[], bool]) -> tuple[Outcome, float]:
        """Run `check` (in a worker thread) unless a key must wait; ('wait', seconds) when refused unchecked."""
        keys = self._keys(request, name)
        wait = max(limiter.wait_s(k) for limiter, k in keys)
        if wait > 0:
            return "wait", wait
        for limiter, k in keys:
            limiter.strike(k)
        if not await run_in_threadpool(check):
            return "wrong", 0.0
        for limiter, k in keys:
            if limiter is self.by_address:
                limiter.pardon(k)
            else:
                limiter.clear(k)
        self.by_name.clear(name[:100])  # the name's owner proved who they are, from whatever browser
        return "ok", 0.0

    def remember_device(self, response: Response, name: str) -> None:
        """Give the browser a device cookie for `name` (set after a right login)."""
        response.set_cookie(
            DEVICE_COOKIE, new_device_cookie(self.key.current(), name), max_age=DEVICE_DAYS * 86400,
            httponly=True, samesite="strict", path="/",
        )  # fmt: skip

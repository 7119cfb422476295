"""The web app's guards: sessions know who is logged in, every form carries the session's CSRF token, and
every response forbids inline scripts, framing and content sniffing."""

from __future__ import annotations

import hmac
import secrets

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# scripts only from our own static file: even text that escaped escaping could not run
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """ASGI middleware adding HEADERS to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use); forms send it back in a hidden field."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, form: dict[str, str]) -> None:
    """403 unless the form's token equals the session's (constant-time)."""
    expected = request.session.get("csrf", "")
    sent = form.get("csrf", "")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise HTTPException(403, "CSRF check failed: reload the page and submit again")


def annotator_of(request: Request) -> str | None:
    """The logged-in annotator, or None."""
    return request.session.get("annotator")


def require_admin(request: Request) -> None:
    """403 unless this session logged in with the project's admin token."""
    if request.session.get("admin") is not True:
        raise HTTPException(403, "admin only: log in at /admin/login with the project's admin token")

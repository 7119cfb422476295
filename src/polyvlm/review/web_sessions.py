"""Server-side sessions: the cookie carries a random 256-bit id; the `sessions` table keeps the session's
data under HMAC(session key, id), so logging out deletes the row and the old cookie opens nothing, and a
copy of the database alone (without `session.key`) opens no session either.

Routes use `request.session` as with Starlette's cookie sessions; `renew_session` (at login: a new id, no
fixation) and `end_session` (at logout) say what to do with the row when the response starts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from polyvlm.review.session_key import SessionKey

COOKIE = "polyvlm_review"
SESSION_S = 7 * 86400  # a logged-in session
ANONYMOUS_S = 3600  # a login page's session (its CSRF token only): short, so a flood of visits expires soon
_ACTION = "polyvlm.session_action"


def renew_session(request: Request) -> None:
    """Start a new session for this browser (a new id; nothing of the old one carries over)."""
    request.session.clear()
    request.scope[_ACTION] = "renew"


def end_session(request: Request) -> None:
    """End this browser's session: its row is deleted, its cookie no longer opens anything."""
    request.session.clear()
    request.scope[_ACTION] = "end"


class SessionStore:
    """The sessions table, keyed by HMAC of the cookie's id with the project's session key."""

    def __init__(
        self, db: Callable[[], sqlite3.Connection], key: SessionKey, write_lock: threading.Lock
    ) -> None:
        self.db, self.key, self.write_lock = db, key, write_lock

    def _row_key(self, sid: str) -> str:
        return hmac.new(self.key.current(), sid.encode(), hashlib.sha256).hexdigest()

    def load(self, sid: str) -> dict[str, Any] | None:
        """The data of session `sid`, None when there is none (ended, expired, or the key rotated)."""
        row = (
            self.db()
            .execute(
                "SELECT data FROM sessions WHERE key = ? AND expires > ?", (self._row_key(sid), time.time())
            )
            .fetchone()
        )
        return None if row is None else json.loads(row["data"])

    def save(self, sid: str, data: dict[str, Any]) -> int:
        """Write session `sid`; its lifetime in seconds."""
        life = SESSION_S if ("annotator" in data or "admin" in data) else ANONYMOUS_S
        now = time.time()
        with self.write_lock:
            conn = self.db()
            conn.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
            conn.execute(
                "INSERT OR REPLACE INTO sessions (key, data, expires) VALUES (?, ?, ?)",
                (self._row_key(sid), json.dumps(data), now + life),
            )
        return life

    def delete(self, sid: str) -> None:
        """End session `sid`."""
        with self.write_lock:
            self.db().execute("DELETE FROM sessions WHERE key = ?", (self._row_key(sid),))


def _cookie(sid: str, max_age: int) -> tuple[bytes, bytes]:
    value = f"{COOKIE}={sid}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict"
    return b"set-cookie", value.encode()


class ServerSessions:
    """ASGI middleware: loads `scope['session']` from the store, writes it back when it changed."""

    def __init__(self, app: ASGIApp, store: SessionStore) -> None:
        self.app, self.store = app, store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sid = Request(scope).cookies.get(COOKIE) or None
        data = await run_in_threadpool(self.store.load, sid) if sid else None
        if data is None:
            sid = None  # unknown, ended or expired: a new id if this request stores anything
        scope["session"] = dict(data or {})
        before = json.dumps(data, sort_keys=True)

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                header = await run_in_threadpool(self._commit, scope, sid, before)
                if header is not None:
                    message["headers"] = [*message.get("headers", []), header]
            await send(message)

        await self.app(scope, receive, send_with_session)

    def _commit(self, scope: Scope, sid: str | None, before: str) -> tuple[bytes, bytes] | None:
        action, data = scope.get(_ACTION), scope["session"]
        if action in ("end", "renew") and sid is not None:
            self.store.delete(sid)
            sid = None
        if action == "end":
            return _cookie("", 0)
        if sid is not None and json.dumps(data, sort_keys=True) != before:
            self.store.save(sid, data)
            return None
        if sid is None and data:
            sid = secrets.token_urlsafe(32)
            return _cookie(sid, self.store.save(sid, data))
        return None
